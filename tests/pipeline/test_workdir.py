"""The private temporary folder every task's files go through."""

from __future__ import annotations

import stat

import pytest

from converter.pipeline.workdir import FOLDER_NAME, KINDS, private_folder


@pytest.mark.parametrize("kind", KINDS)
def test_a_folder_is_private_and_named_for_the_sweeper(kind):
    with private_folder(kind) as folder:
        assert folder.is_dir()
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert folder.name.startswith(f"loopforge-{kind}-")
        assert FOLDER_NAME.fullmatch(folder.name)
    assert not folder.exists()


def test_a_folder_and_its_contents_go_when_the_block_fails():
    made = []

    def fail_inside() -> None:
        with private_folder("work") as folder:
            made.append(folder)
            (folder / "inner").mkdir()
            (folder / "inner" / "source.video").write_bytes(b"x")
            raise RuntimeError("the task failed")

    with pytest.raises(RuntimeError):
        fail_inside()
    assert made and not made[0].exists()


def test_an_unknown_kind_is_refused_before_anything_is_made():
    with pytest.raises(ValueError), private_folder("test"):
        pass


def test_the_sweeper_matches_only_these_folders():
    from converter import reconcile

    assert reconcile.TEMP_NAME is FOLDER_NAME
    assert not FOLDER_NAME.fullmatch("loopforge-test-abcd1234")
    assert not FOLDER_NAME.fullmatch("other-abcd1234")
