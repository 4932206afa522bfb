#!/usr/bin/python3
"""Unit tests for tests/e2e/peers.py (no network, no SFU).

  /usr/bin/python3 -m unittest discover -s tests/e2e -p 'test_*.py' -v
"""

import unittest

import numpy as np

import peers


def luma_of(number: int, width: int = 320, height: int = 240) -> np.ndarray:
    return peers.encode_frame_number(number, width, height)[:height]


class FrameNumberTest(unittest.TestCase):
    def test_roundtrip(self):
        for width, height in [(320, 240), (640, 480), (176, 144), (64, 48)]:
            for n in [0, 1, 2, 255, 256, 0x5A5A, 0xA5A5, 12345, 0xFFFE, 0xFFFF]:
                with self.subTest(n=n, size=(width, height)):
                    self.assertEqual(peers.decode_frame_number(luma_of(n, width, height)), n)

    def test_number_is_taken_mod_65536(self):
        self.assertEqual(peers.decode_frame_number(luma_of(65536 + 7)), 7)

    def test_scaled_picture_still_reads(self):
        # A receiver may see the picture scaled: geometry is relative.
        small = luma_of(4321)[::2, ::2]
        big = np.repeat(np.repeat(luma_of(4321), 2, axis=0), 2, axis=1)
        self.assertEqual(peers.decode_frame_number(small), 4321)
        self.assertEqual(peers.decode_frame_number(big), 4321)

    def test_flipped_bit_is_rejected(self):
        for index in [0, 7, 8, 15, 16, 23]:  # number bits and checksum bits
            with self.subTest(block=index):
                img = luma_of(1000).copy()
                y0, y1, x0, x1 = peers._block_rect(index, 320, 240)
                img[y0:y1, x0:x1] = 255 - img[y0:y1, x0:x1] + 16
                self.assertIsNone(peers.decode_frame_number(img))

    def test_unreadable_pictures(self):
        cases = {
            "gray": np.full((240, 320), 128, np.uint8),
            "black": np.full((240, 320), 16, np.uint8),  # 0 with a wrong checksum
            "smeared block": luma_of(99).copy(),
            "too small": np.zeros((20, 30), np.uint8),
        }
        cases["smeared block"][0:40, 0:40] = 128
        for name, img in cases.items():
            with self.subTest(case=name):
                self.assertIsNone(peers.decode_frame_number(img))

    def test_bad_size_is_refused(self):
        for size in [(321, 240), (320, 241), (32, 24)]:
            with self.subTest(size=size), self.assertRaises(ValueError):
                peers.encode_frame_number(0, *size)

    def test_survives_vp8_at_low_bitrate(self):
        from aiortc.codecs.vpx import Vp8Decoder, Vp8Encoder, vp8_depayload
        from aiortc.jitterbuffer import JitterFrame

        track = peers.FrameNumberTrack(320, 240, fps=1000)  # no pacing wait
        enc, dec = Vp8Encoder(), Vp8Decoder()
        enc.target_bitrate = 0  # clamped up to aiortc's minimum, 250 kbit/s
        got = []
        import asyncio

        async def frames():
            return [await track.recv() for _ in range(60)]

        for frame in asyncio.run(frames()):
            payloads, ts = enc.encode(frame, False)
            data = b"".join(vp8_depayload(p) for p in payloads)
            for out in dec.decode(JitterFrame(data=data, timestamp=ts)):
                luma = out.to_ndarray()[: out.height]
                got.append(peers.decode_frame_number(luma))
        self.assertEqual(got, list(range(60)))


class UnwrapTest(unittest.TestCase):
    def test_table(self):
        cases = [  # (number, last, expected)
            (5, None, 5), (6, 5, 6), (0, 65535, 65536), (65535, 65536, 65535),
            (10, 65536 + 9, 65536 + 10), (100, 50, 100), (0x8000, 0, -0x8000),
        ]
        for number, last, want in cases:
            with self.subTest(number=number, last=last):
                self.assertEqual(peers.unwrap16(number, last), want)


class VideoReportTest(unittest.TestCase):
    def report(self, numbers, last_sent, unreadable=0):
        rx = peers.Receiver(numbers=list(numbers), unreadable=unreadable)
        return rx.video_report(last_sent)

    def test_table(self):
        cases = [  # (name, numbers, last_sent, received, expected, in_order)
            ("all", range(10, 110), 109, 100, 100, True),
            ("lagging tail counted as lost", range(10, 100), 109, 90, 100, True),
            ("frames after last_sent ignored", range(10, 130), 109, 100, 100, True),
            ("one lost", [n for n in range(0, 100) if n != 50], 99, 99, 100, True),
            ("duplicate", [1, 2, 2, 3], 3, 3, 3, False),
            ("reordered", [1, 3, 2, 4], 4, 4, 4, False),
            ("nothing", [], 99, 0, 0, True),
        ]
        for name, numbers, last_sent, received, expected, in_order in cases:
            with self.subTest(case=name):
                r = self.report(numbers, last_sent)
                self.assertEqual((r["received"], r["expected"], r["in_order"]),
                                 (received, expected, in_order))

    def test_ratio_below_threshold(self):
        r = self.report([n for n in range(100) if n % 5 != 1], 99)  # every 5th lost
        self.assertAlmostEqual(r["ratio"], 0.80)
        self.assertLess(r["ratio"], 0.90)


if __name__ == "__main__":
    unittest.main()
