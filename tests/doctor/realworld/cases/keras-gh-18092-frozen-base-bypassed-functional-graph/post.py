import tensorflow as tf
from tensorflow import keras


def build_plain():
    keras.backend.clear_session()
    net = keras.applications.mobilenet_v2.MobileNetV2(
        input_shape=None, alpha=1.0, weights='imagenet', classifier_activation=None
    )
    net.trainable = False
    return net


def build_wrapped():
    keras.backend.clear_session()
    inp = keras.layers.Input(shape=(224, 224, 3))
    base = keras.applications.mobilenet_v2.MobileNetV2(
        input_tensor=inp, weights='imagenet', alpha=1.0, classifier_activation=None
    )
    base.trainable = False  # freeze first
    net = tf.keras.Model(inp, base.output)
    # net.trainable = False  <- tried this too, no luck
    return net


def unfreeze_top(net, n=20):
    for layer in net.layers[-n:]:
        if not isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = True
    return net


a = unfreeze_top(build_plain())
b = unfreeze_top(build_wrapped())
print(len(a.trainable_weights), len(b.trainable_weights))
# the two numbers differ, why does unfreezing work for one model and not the other?
