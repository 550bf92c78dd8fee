"""Authorization of Jupyter's own routes: paths, targets, decisions."""
