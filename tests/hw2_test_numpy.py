"""Public tests of Part II. `python tests/hw2_test_numpy.py > evaluation_numpy.txt` writes the log."""
import os
import sys

sys.path[:0] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__))), os.path.dirname(__file__)]
import hw2_utils  # noqa: E402  (first: sets TensorFlow up)
import hw2_numpy  # noqa: E402
import numpy as np  # noqa: E402
from reference import random_conv_case, tf_conv2d_nchw, tf_max_pool_nchw  # noqa: E402


class TestNumpy(hw2_utils.TestCase):

    def test_convolution_small(self):
        x = np.arange(2 * 3 * 4 * 4, dtype=np.float64).reshape(2, 3, 4, 4) / 10
        w = np.linspace(-1, 1, 4 * 3 * 3 * 3).reshape(4, 3, 3, 3)
        b = np.array([0.5, -0.5, 1.0, 0.0])
        out = hw2_numpy.convolution(x, w, b, stride=2, pad=1)
        self.assertShapeEqual(out, (2, 4, 2, 2))
        self.assertArrayEqual(out, tf_conv2d_nchw(x, w, b, 2, 1))
        # Corner of the first output: only the lower-right 2x2 of the kernel sees the input.
        expected = np.sum(x[0, :, :2, :2] * w[0, :, 1:, 1:]) + b[0]
        self.assertAlmostEqual(out[0, 0, 0, 0], expected, places=10)

    def test_convolution_random(self):
        rng = np.random.default_rng(2020)
        for _ in range(20):
            x, w, b, stride, pad = random_conv_case(rng)
            out = hw2_numpy.convolution(x, w, b, stride, pad)
            self.assertArrayEqual(out, tf_conv2d_nchw(x, w, b, stride, pad))

    def test_convolution_float32(self):
        rng = np.random.default_rng(32)
        x, w, b, stride, pad = random_conv_case(rng, np.float32)
        out = hw2_numpy.convolution(x, w, b, stride, pad)
        self.assertEqual(out.dtype, np.float32)
        np.testing.assert_allclose(out, tf_conv2d_nchw(x, w, b, stride, pad), rtol=1e-5, atol=1e-5)

    def test_grayscale_filter(self):
        rng = np.random.default_rng(3)
        w = rng.standard_normal((2, 3, 3, 3))
        filter0 = w[0].copy()
        w = hw2_numpy.grayscale_filter(w)
        self.assertArrayEqual(w[0], filter0)
        image = rng.random((2, 3, 8, 8))
        out = hw2_numpy.convolution(image, w, np.zeros(2), stride=1, pad=1)
        luma = 0.299 * image[:, 0] + 0.587 * image[:, 1] + 0.114 * image[:, 2]
        self.assertArrayEqual(out[:, 1], luma)

    def test_relu(self):
        x = np.linspace(-1, 1, 24).reshape(2, 3, 4)
        out = hw2_numpy.relu(x)
        self.assertShapeEqual(out, x)
        self.assertArrayEqual(out, np.where(x > 0, x, 0))
        self.assertTrue(np.all(out >= 0))

    def test_max_pool(self):
        rng = np.random.default_rng(4)
        for pool_height, pool_width, stride, size in [(2, 2, 2, 8), (3, 3, 2, 9), (2, 3, 1, 7), (3, 2, 3, 10)]:
            x = rng.standard_normal((2, 3, size, size + 1))
            param = {"pool_height": pool_height, "pool_width": pool_width, "stride": stride}
            out = hw2_numpy.max_pool(x, param)
            self.assertArrayEqual(out, tf_max_pool_nchw(x, pool_height, pool_width, stride))
        self.assertIs(hw2_numpy.maxpool, hw2_numpy.max_pool)

    def test_dropout_train(self):
        x = np.ones((100, 100))
        for p in (0.2, 0.5, 0.8):
            out = hw2_numpy.dropout(x, "train", p)
            dropped = np.mean(out == 0)
            self.assertAlmostEqual(dropped, p, delta=0.03)
            self.assertArrayEqual(out[out != 0], np.full(np.sum(out != 0), 1 / (1 - p)))
            self.assertAlmostEqual(out.mean(), 1.0, delta=0.1)

    def test_dropout_test(self):
        x = np.random.default_rng(5).standard_normal((10, 20))
        self.assertArrayEqual(hw2_numpy.dropout(x, "test", 0.5), x)


if __name__ == "__main__":
    hw2_utils.main_tests(TestNumpy, "evaluation_numpy.txt")
