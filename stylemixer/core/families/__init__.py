"""Generator families behind one seam (api.py): each family is a subpackage with its network and converters."""
