class AlexNet(DNN):

    def __init__(self):
        super(AlexNet, self).__init__()
        self.model = tv_models.alexnet()
        self.model.load_state_dict(torch.load(pjoin(DNNBRAIN_MODEL, 'alexnet_param.pth')))
        self.layer2loc = {'conv1': ('features', '0'), 'conv1_relu': ('features', '1'),
                          'conv5': ('features', '10'), 'fc1': ('classifier', '1'),
                          'fc2': ('classifier', '4'), 'fc3': ('classifier', '6')}
        self.img_size = (224, 224)


    def compute_activation(self, stimuli, dmask, pool_method=None):
        """Extract DNN activation of the stimuli for every layer in dmask."""
        dnn_acts = []

        def hook_act(module, input, output):
            act = output.detach().numpy().copy()
            dnn_acts.append(act)

        activation = Activation()
        for layer in dmask.layers:
            module = self.layer2module(layer)
            hook_handle = module.register_forward_hook(hook_act)

            data_loader = DataLoader(ImageSet(stimuli, transform=self.test_transform), batch_size=8, shuffle=False)
            for stims, _ in data_loader:
                self.model(stims)
                print('Extracted acts:', len(dnn_acts))
            acts = np.concatenate(dnn_acts)
            dnn_acts = []
            activation.set(layer, acts)
            hook_handle.remove()
        return activation
