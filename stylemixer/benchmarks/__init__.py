"""`stylemixer bench` (bench.py: the built-in model, the official StyleGAN shape, the app's start; families.py:
StyleGAN2 and StyleGAN3). Imported only when that command runs: the app, the other commands and
`import stylemixer` never import this package (tested), and it uses only the public Renderer and Session API.
"""
