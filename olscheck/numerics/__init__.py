"""Numerical building blocks: scaling, QR, least squares, sandwich covariances."""
