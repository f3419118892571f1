"""Public tests of Part I. `python tests/hw2_test_mnist.py > evaluation_mnist.txt` writes the log."""
import os
import sys

sys.path[:0] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__))), os.path.dirname(__file__)]
import hw2_utils  # noqa: E402  (first: sets TensorFlow up)
import hw2_mnist  # noqa: E402
import hw2_train  # noqa: E402
import tensorflow as tf  # noqa: E402

_trained = {}


def trained(number):
    """(model, test accuracy) of MNIST model 1 or 2, built and trained once per process."""
    if number not in _trained:
        build = getattr(hw2_mnist, f"build_model_mnist{number}")
        train = getattr(hw2_mnist, f"train_model_mnist{number}")
        train_set, test_set = hw2_mnist.splits.train, hw2_mnist.splits.test
        model = train(build(), train_set.X, train_set.Y)
        _trained[number] = (model, hw2_utils.accuracy(model, test_set.X, test_set.Y))
        hw2_train.add_final_figures(hw2_train.run_folder(model.name), test_acc=_trained[number][1])
    return _trained[number]


def first_time_reaching(history, target):
    """Training seconds at the first epoch whose validation accuracy >= target (None if never)."""
    return next((record["seconds"] for record in history if record["val_acc"] >= target), None)


class TestMnist(hw2_utils.TestCase):

    def test_model1_structure(self):
        model = hw2_mnist.build_model_mnist1()
        kinds = [type(layer).__name__ for layer in model.layers]
        self.assertEqual(kinds, ["InputLayer", "Conv2D", "MaxPooling2D", "Dropout", "Flatten", "Dense", "Dense"])
        conv, pool, drop, _, hidden, out = model.layers[1:]
        self.assertEqual((conv.filters, conv.kernel_size, conv.strides), (32, (5, 5), (1, 1)))
        self.assertIs(conv.activation, tf.keras.activations.relu)
        self.assertEqual((pool.pool_size, pool.strides), ((2, 2), (2, 2)))
        self.assertAlmostEqual(drop.rate, 0.2)
        self.assertEqual((hidden.units, out.units), (128, 10))
        self.assertIs(hidden.activation, tf.keras.activations.relu)
        self.assertIs(out.activation, tf.keras.activations.softmax)
        self.assertShapeEqual(tuple(model.input_shape), (None, 28, 28, 1))
        self.assertEqual(model.count_params(), 592_074)

    def test_model1_accuracy(self):
        model, test_accuracy = trained(1)
        print(f"model 1: test accuracy {test_accuracy:.4f}")
        self.assertGreaterEqual(test_accuracy, 0.985)

    def test_model2_accuracy(self):
        model, test_accuracy = trained(2)
        print(f"model 2: test accuracy {test_accuracy:.4f}")
        self.assertGreaterEqual(test_accuracy, 0.993)

    def test_model2_better_than_model1(self):
        (model1, accuracy1), (model2, accuracy2) = trained(1), trained(2)
        target = model1.history_[-1]["val_acc"]
        time1 = model1.history_[-1]["seconds"]
        time2 = first_time_reaching(model2.history_, target)
        print(f"model 1 reached validation accuracy {target:.4f} after {time1:.1f}s; model 2 after "
              + (f"{time2:.1f}s" if time2 is not None else "never"))
        print(f"test accuracy: model 1 {accuracy1:.4f}, model 2 {accuracy2:.4f}")
        faster = time2 is not None and time2 < time1
        self.assertTrue(faster or accuracy2 > accuracy1, "model 2 neither converges faster nor is more accurate")


if __name__ == "__main__":
    hw2_utils.main_tests(TestMnist, "evaluation_mnist.txt")
