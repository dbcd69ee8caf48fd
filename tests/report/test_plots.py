"""The report's figures: class names in any script, and the probe's validation path."""

import warnings

import pytest

from graftlab.report import plots

CJK = ["猫", "犬", "狐"]


def _drawn_without_missing_glyphs(draw) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw()
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_cjk_class_names_are_drawn_with_a_font_that_has_them_or_numbered(tmp_path):
    # They were drawn as boxes with matplotlib's default font.
    fonts = plots._font_for(frozenset(map(ord, "".join(CJK))))
    with plots._fonts(CJK) as labels:
        pass
    if fonts is None:  # no CJK font installed (Debian: fonts-noto-cjk): numbers, not boxes
        assert labels == ["#0", "#1", "#2"] and plots.undrawable(CJK) == CJK
    else:
        from matplotlib import font_manager

        assert labels == CJK and "Last Resort" not in fonts[-1]
        path = font_manager.findfont(fonts[-1])
        assert set(map(ord, "".join(CJK))) <= plots._charmap(path)
    cm = [[2, 1, 0], [0, 3, 0], [1, 0, 2]]
    missing = _drawn_without_missing_glyphs(
        lambda: plots.confusion_matrix(cm, CJK, tmp_path / "cm.png")
    )
    items = [{"path": "gone.png", "true": "猫", "pred": "犬", "confidence": 0.9}]
    missing += _drawn_without_missing_glyphs(
        lambda: plots.mistakes_gallery(items, tmp_path / "m.png", classes=CJK)
    )
    assert missing == []


def test_a_name_no_font_can_draw_is_shown_as_its_class_number(monkeypatch):
    real = plots._font_for
    monkeypatch.setattr(plots, "_font_for", lambda chars: None if 0x732B in chars else real(chars))
    with plots._fonts(["cat", "猫"], numbers=[4, 7]) as labels:
        assert labels == ["cat", "#7"]


def test_probe_path_is_drawn_over_l2_strength_with_the_chosen_one_marked(tmp_path):
    points = [
        {"weight_decay": wd, "val_loss": loss, "val_accuracy": acc}
        for wd, loss, acc in ((0.1, 0.9, 0.6), (0.03, 0.7, 0.7), (0.01, 0.75, 0.7))
    ]
    out = plots.probe_path(points, 0.03, tmp_path / "probe.png")
    assert out is not None and out.read_bytes().startswith(b"\x89PNG")
    assert plots.probe_path([{"iterations": 3}], None, tmp_path / "none.png") is None


@pytest.mark.parametrize("eps,k,floor", [(0.1, 3, 0.2911), (0.0, 3, 0.0), (0.1, 10, 0.5002)])
def test_smoothed_loss_floor_is_the_entropy_of_the_smoothed_target(eps, k, floor):
    from graftlab.report._settings import smoothed_loss_floor

    assert smoothed_loss_floor(eps, k, "multiclass") == pytest.approx(floor, abs=1e-4)
