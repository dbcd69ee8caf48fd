from tf2cv.model_provider import get_model

net = get_model(name="efficientnet_b0", pretrained=True, classes=2)
net.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
