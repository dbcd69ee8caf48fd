import argparse
import base64
from io import BytesIO

import numpy as np
import socketio
import eventlet.wsgi
from PIL import Image
from flask import Flask
from keras.models import load_model

sio = socketio.Server()
app = Flask(__name__)
model = None


@sio.on('telemetry')
def telemetry(sid, data):
    if data:
        speed = data["speed"]
        b64_img = data["image"]
        image = Image.open(BytesIO(base64.b64decode(b64_img)))
        frame = np.asarray(image)
        steering_angle = float(model.predict(frame[None, :, :, :], batch_size=1))
        throttle = 0.2
        print(steering_angle, throttle)
        send_control(steering_angle, throttle)
    else:
        sio.emit('manual', data={}, skip_sid=True)


def send_control(steering_angle, throttle):
    sio.emit("steer", data={'steering_angle': str(steering_angle), 'throttle': str(throttle)}, skip_sid=True)


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description='drive the simulator with a trained model')
    parser.add_argument('model', type=str, help='saved Keras model')
    args = parser.parse_args()
    model = load_model(args.model)
    app = socketio.Middleware(sio, app)
    eventlet.wsgi.server(eventlet.listen(('', 4567)), app)
