disc = build_discriminator()
disc.compile(loss='binary_crossentropy', optimizer=Adam(2e-4, 0.5))

gen = build_generator()
z = Input(shape=(latent_dim,))
fake = gen(z)
validity = disc(fake)
combined = Model(z, validity)
combined.compile(loss='binary_crossentropy', optimizer=Adam(2e-4, 0.5))

for step in range(n_steps):
    imgs = x_train[np.random.randint(0, x_train.shape[0], batch)]
    noise = np.random.normal(0, 1, (batch, latent_dim))
    gen_imgs = gen.predict(noise)

    disc.trainable = True
    d_loss_real = disc.train_on_batch(imgs, np.ones((batch, 1)))
    d_loss_fake = disc.train_on_batch(gen_imgs, np.zeros((batch, 1)))

    disc.trainable = False
    w_before = disc.get_weights()[0].copy()
    g_loss = combined.train_on_batch(noise, np.ones((batch, 1)))
    w_after = disc.get_weights()[0]
    print(step, d_loss_real, d_loss_fake, g_loss, np.abs(w_after - w_before).max())
