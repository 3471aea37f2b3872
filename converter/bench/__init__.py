"""Benchmark: our encoders against the reference tools, on the same workloads.

Run it as ``python manage.py benchmark`` or ``python -m converter.bench``
(no database, Redis or storage needed). For every (workload, tool) it prints
wall seconds (median of the runs), bytes, frames, mean and minimum SSIM
against the source frames at the sampled times, and the peak RSS of the
processes that did the work.

The package, by role:

- ``workloads``: what is measured, and the clips it is measured on;
- ``tools``: the commands of ours and of the reference tools;
- ``measure``: running a command for its wall time and peak RSS;
- ``decode``: an animation's frames, durations and loop count (the tests
  decode with it too);
- ``score``: SSIM, and scoring frames against the source;
- ``report``: the rows, the goals and the table;
- ``run``: one workload through every tool;
- ``cli``: the options and the whole run (``__main__`` runs it).

Every run of every tool happens in a child process, so the peak RSS is that
child's own (``os.wait4``; for a tool that spawns ffmpeg, the larger of the two).
Time is the child's wall time; for the Python tools (ours, MoviePy) it is the
time of the work itself, measured inside the child after its imports, as a
long-lived worker would see it.

SSIM is computed the way ``../shared/bench/animq.py`` does it: every output
frame against the source frames decoded by ffmpeg at the nominal sample time
(start + k * interval) plus or minus one source frame, scaled with lanczos to
the animation's size, best candidate counts; scikit-image's
``structural_similarity(channel_axis=2, data_range=255)``, reimplemented with
numpy (same numbers to 1e-9) so the benchmark needs no scikit-image.
"""
