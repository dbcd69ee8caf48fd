def main(args):
    if args.model_type == 'deco':
        deco_model = DECO('hrnet', True, device)
    else:
        raise ValueError(f'Model type {args.model_type} not supported')

    checkpoint = torch.load(args.model_path, map_location=device)
    deco_model.load_state_dict(checkpoint['deco'], strict=True)
    deco_model.eval()

    images = sorted(glob.glob(os.path.join(args.img_src, '*')))
    for img_name in images:
        img = cv2.imread(img_name)
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        img = cv2.resize(img, (256, 256), cv2.INTER_CUBIC)
        img = img.transpose(2, 0, 1) / 255.0
        img = img[np.newaxis, :, :, :]
        img = torch.tensor(img, dtype=torch.float32).to(device)

        cont, _, _ = deco_model(img)
        cont = cont.detach().cpu().numpy().squeeze()
        cont_smpl = []
        for indx, i in enumerate(cont):
            if i >= 0.5:
                cont_smpl.append(indx)
        render_contact(img_name, cont_smpl, args.out_dir)
