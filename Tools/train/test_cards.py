"""Tests of cards.py's statistics and tables (standard library only):

    python3 -m unittest discover -s Tools/train -p 'test_*.py'
"""

import unittest

import cards


def cell(model, compression, means):
    metrics = {f"{probe}/{key}": {"value": means[probe] / (100 if key in ("exactMatch", "accuracy") else 1), "n": 100}
               for probe, key in cards.QA}
    return {"model": model, "compression": compression, "metrics": metrics}


class McNemarTests(unittest.TestCase):
    def test_exact_two_sided_p(self):
        self.assertEqual(cards.mcnemar(0, 0), 1.0)
        self.assertEqual(cards.mcnemar(2, 0), 0.5)          # 2 · (1/4)
        self.assertAlmostEqual(cards.mcnemar(15, 4), 0.01921, places=5)  # 2 · P(X ≤ 4), X ~ B(19, ½)
        self.assertEqual(cards.mcnemar(5, 5), 1.0)          # capped at 1


class DiscordantTests(unittest.TestCase):
    def test_counts_only_shared_samples_each_way(self):
        correct = {("a", "fp16", "spatial", "s0"): True, ("b", "fp16", "spatial", "s0"): False,
                   ("a", "fp16", "spatial", "s1"): False, ("b", "fp16", "spatial", "s1"): True,
                   ("a", "fp16", "spatial", "s2"): True, ("b", "fp16", "spatial", "s2"): False,
                   ("a", "fp16", "spatial", "s3"): True, ("b", "fp16", "spatial", "s3"): True,
                   ("a", "fp16", "spatial", "s4"): True}   # b never answered s4: not counted
        self.assertEqual(cards.discordant(correct, ("a", "fp16"), ("b", "fp16")), (2, 1))
        self.assertEqual(cards.discordant(correct, ("b", "fp16"), ("a", "fp16")), (1, 2))


class HeadToHeadTests(unittest.TestCase):
    def test_names_only_the_pairs_both_measured(self):
        correct = {("m", "kv-kivi-4", "spatial", "s0"): True, ("m", "kv-uniform-2", "spatial", "s0"): False,
                   ("m", "kv-kivi-4", "spatial", "s1"): True, ("m", "kv-uniform-2", "spatial", "s1"): True}
        self.assertEqual(cards.head_to_head(correct, "m"),
                         "Head to head, the questions only the first setting answers right / only the second does "
                         "(exact McNemar p): `kv-kivi-4` against `kv-uniform-2`: 1 / 0 (p = 1).")
        self.assertEqual(cards.head_to_head(correct, "other"), "")


class AxisTableTests(unittest.TestCase):
    def test_pairs_differ_in_one_axis_and_the_first_is_the_named_value(self):
        flat = {p: 80.0 for p, _ in cards.QA}
        better = dict(flat, spatial=92.0)  # QA mean +2.0
        cells = [cell("gemma-lm-s-vis-s-pre", "fp16", better), cell("gemma-lm-s-vis-s-nopre", "fp16", flat),
                 cell("gemma-lm-l-vis-s-pre", "fp16", flat), cell("gemma-lm-s-vis-s-pre", "kv4", flat)]
        correct = {("gemma-lm-s-vis-s-pre", "fp16", "spatial", f"s{i}"): True for i in range(12)}
        correct.update({("gemma-lm-s-vis-s-nopre", "fp16", "spatial", f"s{i}"): i < 0 for i in range(12)})
        rows = [line for line in cards.axis_table(cells, correct, 100).splitlines() if line.startswith("| connector")
                or line.startswith("| language")]
        self.assertEqual(rows, [
            "| connector pretraining | `ablation/lm-s-vis-s-pre` | 82.0 | `ablation/lm-s-vis-s-nopre` | 80.0 | +2.0 "
            "| 12 / 0 (0.00049) |",
            "| language model | `ablation/lm-l-vis-s-pre` | 80.0 | `ablation/lm-s-vis-s-pre` | 82.0 | -2.0 | 0 / 0 (1) |",  # no answers of lm-l: nothing shared
        ])


if __name__ == "__main__":
    unittest.main()
