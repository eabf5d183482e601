"""Tools that check the whole package from outside: ``gpu_check`` (the CUDA paths, one command on a GPU host).

Tools may import any layer; nothing in the library imports them.
"""
