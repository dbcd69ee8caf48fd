# algorithms/base_algo.py
    def get_test_accuracy(self, case):
        # case: 'val' or 'test'
        loader = self.val_dataset if case == 'val' else self.test_dataset
        n_correct = 0
        n_total = 0
        with torch.no_grad():
            for batch_idx, (x_e, y_e, d_e, idx_e, obj_e) in enumerate(loader):
                x_e = x_e.to(self.cuda)
                y_e = torch.argmax(y_e, dim=1).to(self.cuda)
                out = self.phi(x_e)
                n_correct += torch.sum(torch.argmax(out, dim=1) == y_e).item()
                n_total += y_e.shape[0]
        acc = 100 * n_correct / n_total
        print(' Accuracy: ', case, acc)
        self.final_acc.append(acc)
        return acc

# algorithms/hybrid.py
    def train(self):
        for epoch in range(self.args.epochs):
            self.phi.train()
            penalty_erm = 0
            penalty_ws = 0
            for batch_idx, (x_e, y_e, d_e, idx_e, obj_e) in enumerate(self.train_dataset['data_loader']):
                self.opt.zero_grad()
                x_e = x_e.to(self.cuda)
                y_e = torch.argmax(y_e, dim=1).to(self.cuda)
                feat = self.phi(x_e)
                loss_e = F.cross_entropy(feat, y_e.long())
                penalty_erm += float(loss_e)
                loss_e.backward(retain_graph=False)
                self.opt.step()
            print('Train Loss Basic : ', penalty_erm, penalty_ws)

            # val / test accuracy after every epoch
            self.val_acc.append(self.get_test_accuracy('val'))
            self.test_acc.append(self.get_test_accuracy('test'))

            if self.val_acc[-1] > self.max_val_acc:
                self.max_val_acc = self.val_acc[-1]
                self.save_model()

# evaluation/base_eval.py
    def load_model(self, run):
        self.phi.load_state_dict(torch.load(self.base_res_dir + '/Model_' + self.post_string + '_' + str(run) + '.pth'))
        self.phi.eval()
