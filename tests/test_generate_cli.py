"""`taletree generate` as a real process on a tiny model folder."""

import json

import pytest

from testbed.tiny_models import save_tiny_model
from tests.conftest import run_cli, run_here


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    return str(save_tiny_model(tmp_path_factory.mktemp("model"), "gpt2"))


@pytest.fixture(scope="module")
def second_model(tmp_path_factory):
    """Another kind of model, with a tokenizer of its own."""
    return str(save_tiny_model(tmp_path_factory.mktemp("llama"), "llama"))


def generate(*args):
    """`taletree generate` in this process: what a child process would add is tested below."""
    return run_here("generate", *args)


def test_json_samples_and_seeds_that_do_not_depend_on_the_batch_size(model_folder):
    common = [
        "--model",
        model_folder,
        "--prompt",
        "The lamp",
        "-n",
        "4",
        "--max-new-tokens",
        "12",
        "--seed",
        "9",
        "--json",
    ]
    one_by_one = generate(*common, "--batch-size", "1")
    at_once = generate(*common, "--batch-size", "4")
    assert one_by_one.returncode == 0, one_by_one.stderr
    records = [json.loads(line) for line in one_by_one.stdout.splitlines()]
    assert [r["sample"] for r in records] == [0, 1, 2, 3]
    assert all(r["text"].startswith("The lamp") for r in records)
    assert all(r["tokens"] == 12 and r["finish_reason"] == "length" for r in records)
    assert len({r["seed"] for r in records}) == 4
    assert at_once.stdout == one_by_one.stdout


def test_plain_output_separates_samples_and_can_leave_out_the_prompt(model_folder):
    result = generate(
        "--model",
        model_folder,
        "--prompt",
        "Rain",
        "-n",
        "2",
        "--batch-size",
        "2",
        "--max-new-tokens",
        "8",
        "--no-include-prefix",
        "--seed",
        "1",
    )
    samples = result.stdout.rstrip("\n").split("\n====================\n")
    assert len(samples) == 2 and not samples[0].startswith("Rain")


def test_truncate_and_prompt_file(model_folder, tmp_path):
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("The keeper", encoding="utf-8")
    seeded = ("--model", model_folder, "--prompt-file", str(prompt), "--max-new-tokens", "30")
    seeded += ("--seed", "3", "--json", "--no-include-prefix")
    first = generate(*seeded)
    text = json.loads(first.stdout)["text"]
    cut = text[len(text) // 2 : len(text) // 2 + 2]
    truncated = generate(*seeded, "--truncate", cut)
    record = json.loads(truncated.stdout)
    assert record["finish_reason"] == "stop_string"
    assert record["text"] == text[: text.index(cut)]


def test_to_file_with_a_progress_bar(model_folder, tmp_path):
    target = tmp_path / "samples.txt"
    result = generate(
        "--model",
        model_folder,
        "-n",
        "3",
        "--batch-size",
        "2",
        "--max-new-tokens",
        "6",
        "--to-file",
        str(target),
        "--seed",
        "2",
    )
    assert result.returncode == 0 and result.stdout == ""
    assert "3/3 samples" in result.stderr and "tok/s" in result.stderr
    assert target.read_text(encoding="utf-8").count("====================") == 2


def test_several_models_share_the_samples_each_as_it_writes_alone(model_folder, second_model):
    common = ["--prompt", "The lamp", "-n", "5", "--max-new-tokens", "10", "--seed", "3", "--json"]
    both = generate("--model", model_folder, "--model", second_model, *common, "--batch-size", "5")
    assert both.returncode == 0, both.stderr
    records = [json.loads(line) for line in both.stdout.splitlines()]
    assert [r["sample"] for r in records] == [0, 1, 2, 3, 4]
    assert [r["model"] for r in records] == [model_folder] * 3 + [second_model] * 2
    alone = {
        model: [
            json.loads(line) for line in generate("--model", model, *common).stdout.splitlines()
        ]
        for model in (model_folder, second_model)
    }
    assert records == alone[model_folder][:3] + alone[second_model][3:]
    one_by_one = generate("--model", model_folder, "--model", second_model, *common)
    assert one_by_one.stdout == both.stdout  # batches that span the two models or not


def test_plain_samples_say_which_model_wrote_them(model_folder, second_model):
    models = ["--model", model_folder, "--model", second_model]
    result = generate(*models, *"--prompt Rain -n 2 --max-new-tokens 6 --seed 1".split())
    first, second = result.stdout.split("\n====================\n")
    assert first.startswith(f"[{model_folder}]\nRain")
    assert second.startswith(f"[{second_model}]\nRain")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--model", "{model}", "--model", "{model}", "-n", "2"], "is named twice"),
        (
            ["--model", "{model}", "--model", "{tmp}/b", "-n", "1"],
            "-n 1 is fewer samples than the 2",
        ),
        (["-n", "5", *[f for i in range(5) for f in ("--model", f"{{tmp}}/{i}")]], "at most 4"),
        (["--model", "/no/such/model"], "is not a folder"),
        (["--model", "{tmp}"], "no config.json"),
        (["--model", "{model}", "-n", "0"], "1 or more"),
        (["--model", "{model}", "--top-p", "2"], "top_p should be above 0 and at most 1"),
        (["--model", "{model}", "--genre", "horror"], "no genre token <horror>"),
        (["--model", "{model}", "--prompt-file", "{tmp}/missing.txt"], "can't be read"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(model_folder, tmp_path, arguments, message):
    filled = [a.format(tmp=tmp_path, model=model_folder) for a in arguments]
    result = run_here("generate", *filled)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_no_model_and_no_demo_model_yet_says_what_to_do(monkeypatch, tmp_path, capsys):
    import assets
    import engine.named_models
    from tui.cli import main

    monkeypatch.setattr(assets, "DEMO_MODEL", tmp_path / "not-built-yet")
    monkeypatch.setattr(engine.named_models, "packaged_gguf", lambda: None)  # nor the default
    assert main(["generate", "--prompt", "x"]) == 2
    error = capsys.readouterr().err
    assert "make demo-model" in error and error.count("\n") == 1


def test_nothing_but_taletrees_own_output_reaches_stderr(model_folder):
    """The demo model and a tiny one, with every warning switched on: a library's deprecation
    or notice would show here first."""
    loud = {"PYTHONWARNINGS": "always"}
    for model in ([], ["--model", model_folder]):
        result = run_cli(
            "generate", *model, "--prompt", "Mira found the key", "--max-new-tokens", "8", env=loud
        )
        assert result.returncode == 0 and result.stdout.startswith("Mira found the key")
        assert result.stderr == ""


@pytest.mark.filterwarnings("always")
def test_a_library_warning_goes_to_the_log_not_the_terminal(monkeypatch, capsys):
    import warnings

    import tui.cli
    from tui.core.bugs import log_path

    def warns(args):
        warnings.warn("`past_key_values` is deprecated", FutureWarning, stacklevel=1)
        print("done")

    monkeypatch.setattr(tui.cli, "cmd_path", warns)
    assert tui.cli.main(["path"]) == 0
    assert capsys.readouterr() == ("done\n", "")
    assert "FutureWarning: `past_key_values` is deprecated" in log_path().read_text()
