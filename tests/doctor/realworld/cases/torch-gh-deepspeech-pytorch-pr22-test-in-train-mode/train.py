    for epoch in range(start_epoch, args.epochs):
        model.train()
        end = time.time()
        for i, (data) in enumerate(train_loader, start=start_iter):
            inputs, targets, input_percentages, target_sizes = data
            inputs = Variable(inputs)
            target_sizes = Variable(target_sizes)
            targets = Variable(targets)
            if args.cuda:
                inputs = inputs.cuda()

            out = model(inputs)
            out = out.transpose(0, 1)  # TxNxH
            seq_length = out.size(0)
            sizes = Variable(input_percentages.mul_(int(seq_length)).int())
            loss = criterion(out, targets, sizes, target_sizes)
            loss = loss / inputs.size(0)

            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm(model.parameters(), args.max_norm)
            optimizer.step()

        total_cer, total_wer = 0, 0
        for i, (data) in enumerate(test_loader):
            inputs, targets, input_percentages, target_sizes = data
            inputs = Variable(inputs)
            if args.cuda:
                inputs = inputs.cuda()
            out = model(inputs)
            out = out.transpose(0, 1)
            seq_length = out.size(0)
            sizes = Variable(input_percentages.mul_(int(seq_length)).int())
            decoded_output = decoder.decode(out.data, sizes)
            target_strings = decoder.process_strings(decoder.convert_to_strings(split_targets))
            for x in range(len(target_strings)):
                total_wer += decoder.wer(decoded_output[x], target_strings[x]) / float(len(target_strings[x].split()))
                total_cer += decoder.cer(decoded_output[x], target_strings[x]) / float(len(target_strings[x]))
        wer = total_wer / len(test_loader.dataset)
        cer = total_cer / len(test_loader.dataset)
        print('Validation Summary Epoch: [{0}]\t'
              'Average WER {wer:.3f}\t'
              'Average CER {cer:.3f}\t'.format(epoch + 1, wer=wer * 100, cer=cer * 100))
