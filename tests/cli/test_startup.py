import gc

from graftlab.cli._startup import heavy_imports


def test_heavy_imports_pauses_the_collector_then_freezes_what_was_built():
    assert gc.isenabled()
    try:
        with heavy_imports():
            assert not gc.isenabled()  # no full collections while torch and timm load
            built = [[] for _ in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(built)  # later collections skip them
    finally:
        gc.unfreeze()


def test_heavy_imports_leaves_a_disabled_collector_disabled():
    gc.disable()
    try:
        with heavy_imports():
            pass
        assert not gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()
