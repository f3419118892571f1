"""Public tests of Part III 7.1/7.2. `python tests/hw2_test_cifar.py > evaluation_cifar.txt` writes the log."""
import os
import sys

sys.path[:0] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__))), os.path.dirname(__file__)]
import hw2_utils  # noqa: E402  (first: sets TensorFlow up)
import hw2_cifar  # noqa: E402
import hw2_train  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

UPDATE_OPS = tf.compat.v1.GraphKeys.UPDATE_OPS
_data = []


def data():
    if not _data:
        _data.append(hw2_utils.load_cifar739())
    return _data[0]


class TestCifar(hw2_utils.TestCase):

    def setUp(self):
        self.graph_context = tf.Graph().as_default()
        self.graph = self.graph_context.__enter__()
        self.X = tf.compat.v1.placeholder(tf.float32, (None, 32, 32, 3), name="X")
        self.Y = tf.compat.v1.placeholder(tf.float32, (None, 10), name="Y")
        self.images = np.random.RandomState(0).standard_normal((16, 32, 32, 3)).astype(np.float32)

    def tearDown(self):
        self.graph_context.__exit__(None, None, None)

    def session(self):
        session = tf.compat.v1.Session(graph=self.graph)
        session.run(tf.compat.v1.global_variables_initializer())
        self.addCleanup(session.close)
        return session

    def test_structure(self):
        model = hw2_cifar.build_keras_model(self.X, 10)
        kinds = [type(layer).__name__ for layer in model.layers]
        self.assertEqual(kinds, ["InputLayer", "Conv2D", "BatchNormalization", "MaxPooling2D", "Flatten",
                                 "Dense", "Dense", "Softmax"])
        conv, _, pool, _, hidden, out, _ = model.layers[1:]
        self.assertEqual((conv.filters, conv.kernel_size, conv.strides), (32, (7, 7), (1, 1)))
        self.assertIs(conv.activation, tf.keras.activations.relu)
        self.assertEqual((pool.pool_size, pool.strides), ((2, 2), (2, 2)))
        self.assertEqual((hidden.units, out.units), (1024, 10))
        self.assertIs(hidden.activation, tf.keras.activations.relu)
        self.assertIs(out.activation, tf.keras.activations.linear)
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        moving = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
        self.assertEqual((trainable, moving), (5_553_866, 64))

    def test_probit_is_softmax_of_logit(self):
        logit, probit = hw2_cifar.build_model(self.X, 10, is_training=False)
        self.assertEqual(logit.shape.as_list(), [None, 10])
        logits, probits = self.session().run([logit, probit], {self.X: self.images})
        self.assertArrayEqual(probits.sum(axis=1), np.ones(len(self.images)))
        expected = np.exp(logits - logits.max(1, keepdims=True))
        self.assertArrayEqual(probits, expected / expected.sum(1, keepdims=True))

    def test_is_training_bool_and_tensor(self):
        def batch_dependent(probit, session, feed=None):
            alone = session.run(probit, {self.X: self.images[:1], **(feed or {})})
            in_batch = session.run(probit, {self.X: self.images, **(feed or {})})[:1]
            return not np.allclose(alone, in_batch, atol=1e-6)
        _, probit_train = hw2_cifar.build_model(self.X, 10, is_training=True)
        _, probit_test = hw2_cifar.build_model(self.X, 10, is_training=False)
        flag = tf.compat.v1.placeholder_with_default(False, ())
        _, probit_flag = hw2_cifar.build_model(self.X, 10, is_training=flag)
        session = self.session()
        self.assertTrue(batch_dependent(probit_train, session))
        self.assertFalse(batch_dependent(probit_test, session))
        self.assertFalse(batch_dependent(probit_flag, session))
        self.assertTrue(batch_dependent(probit_flag, session, {flag: True}))

    def test_batchnorm_moving_statistics_update_in_training_only(self):
        is_training = tf.compat.v1.placeholder_with_default(False, ())
        logit, probit = hw2_cifar.build_model(self.X, 10, is_training)
        mean_loss, optimizer = hw2_cifar.build_loss_optimizer(self.Y, logit)
        self.assertEqual(len(tf.compat.v1.get_collection(UPDATE_OPS)), 2)
        with tf.control_dependencies(tf.compat.v1.get_collection(UPDATE_OPS)):
            train_step = optimizer.minimize(mean_loss)
        moving = [v for v in tf.compat.v1.global_variables() if "moving_" in v.name]
        session = self.session()
        labels = hw2_train.one_hot(np.arange(16) % 10)
        before = session.run(moving)
        session.run(probit, {self.X: self.images})
        for value, start in zip(session.run(moving), before):
            self.assertArrayEqual(value, start)
        session.run(train_step, {self.X: self.images, self.Y: labels, is_training: True})
        for value, start in zip(session.run(moving), before):
            self.assertFalse(np.allclose(value, start))

    def test_loss_and_optimizer(self):
        logit = tf.compat.v1.placeholder(tf.float32, (None, 10))
        mean_loss, optimizer = hw2_cifar.build_loss_optimizer(self.Y, logit)
        self.assertIsInstance(optimizer, tf.compat.v1.train.RMSPropOptimizer)
        self.assertAlmostEqual(optimizer._learning_rate, 1e-3)
        rng = np.random.RandomState(1)
        logits = rng.standard_normal((8, 10)).astype(np.float32) * 30  # confident: log(softmax) must stay finite
        labels = hw2_train.one_hot(rng.randint(0, 10, 8))
        shifted = logits - logits.max(1, keepdims=True)
        expected = np.mean(-(labels * (shifted - np.log(np.exp(shifted).sum(1, keepdims=True)))).sum(1))
        value = self.session().run(mean_loss, {logit: logits, self.Y: labels})
        self.assertAlmostEqual(float(value), float(expected), places=4)

    def test_loss_falls_on_val_set(self):
        hw2_utils.exercise(andrew_username=hw2_utils.ANDREW_USERNAME, seed=hw2_utils.SEED)
        val = data().val
        is_training = tf.compat.v1.placeholder_with_default(False, ())
        logit, _ = hw2_cifar.build_model(self.X, 10, is_training)
        mean_loss, optimizer = hw2_cifar.build_loss_optimizer(self.Y, logit)
        with tf.control_dependencies(tf.compat.v1.get_collection(UPDATE_OPS)):
            train_step = optimizer.minimize(mean_loss)
        session = self.session()
        standardize = hw2_train.standardizer(val.X)
        losses = []
        for step in range(40):
            batch = slice(64 * step, 64 * (step + 1))
            feed = {self.X: standardize(val.X[batch]),
                    self.Y: hw2_train.one_hot(val.Y[batch]), is_training: True}
            losses.append(session.run([train_step, mean_loss], feed)[1])
        print(f"loss: first 5 steps {np.mean(losses[:5]):.4f}, last 5 steps {np.mean(losses[-5:]):.4f}")
        self.assertLess(np.mean(losses[-5:]), 0.9 * np.mean(losses[:5]))

    def test_one_epoch_public_test_accuracy(self):
        hw2_utils.exercise(andrew_username=hw2_utils.ANDREW_USERNAME, seed=hw2_utils.SEED)
        session, tensors, history = hw2_cifar.train(data().train, epochs=1, batch_size=64)
        public = data().public_test
        accuracy = hw2_train.session_accuracy(session, tensors["probit"], tensors["X"], public.X, public.Y,
                                              preprocess=tensors["preprocess"])
        session.close()
        print(f"one epoch on train: public-test accuracy {accuracy:.4f}")
        hw2_train.add_final_figures(hw2_train.run_folder(hw2_cifar.RUN_NAME), public_test_acc=accuracy)
        self.assertGreater(accuracy, 0.40)


if __name__ == "__main__":
    hw2_utils.main_tests(TestCifar, "evaluation_cifar.txt")
