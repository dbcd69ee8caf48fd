def read_clip(video_path, frame_ids, clip_len, image_loader):
    cap = cv2.VideoCapture(video_path)
    frames = []
    cap.set(1, frame_ids[0])
    for _ in frame_ids:
        ok, frame = cap.read()
        if ok:
            frames.append(Image.fromarray(frame))
        else:
            break
    cap.release()

    for f in frames:
        if len(frames) >= clip_len:
            break
        frames.append(f)
    return frames
