"""A mutation fuzzer of media files: valid seed clips of every container the
product accepts, mutated (bit flips, truncation, chunks duplicated or removed,
and targeted edits of header fields), run through the probe and the
conversion, each case classified as success, a documented error code, or a
finding (``InternalError``, an uncaught exception, a hang, a crash).

``seeds`` makes the clips, ``fields`` and ``structure`` find the header fields
of each container, ``h264`` rewrites sequence parameter sets, ``mutators``
makes the cases, ``runner`` runs them in child processes and counts the
outcomes, ``target`` is what a case runs; ``cli`` is ``manage.py fuzzmedia``
(and ``python -m converter.mediafuzz``). Nothing here imports Django.
"""
