"""scanrush: will Huabei scan payments hold up when the promotion rush comes?"""

__version__ = "0.1.0"
