def test_auto_batch_keeps_the_pixels_of_64_images_of_112_px_on_a_cpu():
    from graftlab.features.extract import auto_batch_size

    assert [auto_batch_size(s) for s in (32, 112, 160, 224, 600)] == [64, 64, 31, 16, 8]
    assert auto_batch_size(224, "cuda:0") == 64
