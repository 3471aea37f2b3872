"""Video in, animation bytes out. No ORM and no storage here: a local path and
a spec go in, bytes and metadata come out, so every stage runs in a unit test.

``probe.probe`` runs once per source (in the app, in a sandboxed child:
``isolated.probe``); ``convert.convert`` once per requested animation. This
package imports nothing, so that a web process can use its light modules
(``formats``, ``hls``, ``errors``, ``limits``, ``encoding``, ``sandbox``)
without loading the encoders, PyAV or MoviePy: import each name from the
module that defines it.
"""
