"""Renders `make bench`'s report from its CSV files alone: bench/results/<run>/report.md, the
plots, and the committed bench/RESULTS.md (plots copied to docs/bench_<name>.png).

bench/bench.py measures and writes measurements.csv (+ growth_partitions.csv), then calls this;
run it by hand to re-render a run (no database needed):

    python bench/report_bench.py bench/results/<run> [--airflow-report bench/results/airflow-<stamp>]

What the figures mean and why they are taken this way: docs/performance.md.
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path
from typing import Any

from measurements import Measurements

REPO = Path(__file__).resolve().parents[1]


def read_timeline(out: Path) -> list[dict[str, Any]]:
    """growth_partitions.csv back to numbers (None where a step was not measured)."""
    timeline: list[dict[str, Any]] = []
    if (out / "growth_partitions.csv").is_file():
        with (out / "growth_partitions.csv").open() as handle:
            for row in csv.DictReader(handle):
                for key in [k for k in row if k.endswith("_s")]:  # stage, transform and its steps, checks
                    row[key] = float(row[key]) if row[key] else None
                row["day"] = int(row["day"])
                timeline.append(row)
    return timeline


def plots(out: Path, results: Measurements, timeline: list[dict[str, Any]]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    names = [("floor (COPY raw)", "floor_rows_per_s"), ("ours (folder)", "ours_rows_per_s"),
             ("ours (local S3)", "ours_s3_rows_per_s"),
             ("pandas to_sql", "naive_pandas_rows_per_s"), ("executemany", "naive_executemany_rows_per_s")]  # fmt: skip
    colors = dict(zip([n for _, n in names], ["#999", "#2a7", "#2a7", "#c55", "#c95"], strict=True))
    have = {r["name"] for r in results.rows if r["section"] == "throughput"}
    names = [(label, n) for label, n in names if n in have]
    if len(names) >= 4:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        values = [results.get("throughput", n) / 1000 for _, n in names]
        ax.barh([label for label, _ in names], values, color=[colors[n] for _, n in names])
        for i, v in enumerate(values):
            ax.text(v, i, f" {v:,.0f}k", va="center")
        ax.set_xlabel("thousand rows / s (same data, same PostgreSQL, one run)")
        ax.set_title("Staging throughput")
        ax.invert_yaxis()
        fig.tight_layout()
        fig.savefig(out / "throughput.png", dpi=110)
        made.append("throughput.png")
    if timeline:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        for metric, color in (("stage_s", "#2a7"), ("transform_s", "#27a"), ("checks_s", "#a72")):
            points = [(r["day"], r[metric]) for r in timeline if r[metric] is not None]
            ax.scatter(*zip(*points, strict=True), s=8, color=color, label=metric.removesuffix("_s"))
        ax.set_xlabel("partition (day of the year)")
        ax.set_ylabel("seconds per partition")
        ax.set_title("Cost per partition: first 30 vs last 30 days")
        ax.set_ylim(bottom=0)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "growth.png", dpi=110)
        made.append("growth.png")
    return made


def table(results: Measurements) -> str:
    lines = ["| section | measurement | value | unit | note |", "|---|---|---:|---|---|"]
    for r in results.rows:
        value = r["value"]
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
        lines.append(f"| {r['section']} | {r['name']} | {text} | {r['unit']} | {r['detail']} |")
    return "\n".join(lines)


def targets(results: Measurements) -> str:
    def verdict(ok: bool | None) -> str:
        return "no target" if ok is None else "met" if ok else "**missed**"

    out = []
    checks = [
        ("ours ≥ 0.5 x floor", "throughput", "ratio_ours_floor", lambda v: v >= 0.5),
        ("ours (local S3) ≥ 0.5 x floor", "throughput", "ratio_ours_s3_floor", lambda v: v >= 0.5),
        ("ours ≥ 10 x naive (pandas)", "throughput", "ratio_ours_pandas", lambda v: v >= 10),
        ("floor / naive (pandas): the most ours/naive can be", "throughput", "ratio_floor_pandas", lambda v: None),
        ("peak RSS ≤ 300 MB (1M events)", "memory", "peak_rss_stage_mb_large", lambda v: v <= 300),
        ("staging last30/first30 ≤ 1.25 (min)", "growth", "stage_last_over_first_min", lambda v: v <= 1.25),
        ("staging last30/first30 ≤ 1.25 (median)", "growth", "stage_last_over_first_median", lambda v: v <= 1.25),
        ("transform last30/first30 ≤ 1.25 (min)", "growth", "transform_last_over_first_min", lambda v: v <= 1.25),
        ("transform last30/first30 ≤ 1.25 (median)", "growth", "transform_last_over_first_median", lambda v: v <= 1.25),
        ("checks last30/first30 (min)", "growth", "checks_last_over_first_min", lambda v: None),
        ("transform per partition, 1M-song / 1k-song catalogue ≤ 1.25", "catalogue", "transform_large_over_small",
         lambda v: v <= 1.25),
        ("checks per partition, 1M-song / 1k-song catalogue ≤ 1.25", "catalogue", "checks_large_over_small",
         lambda v: v <= 1.25),
        ("staging 100 new song files, 1M-song / 1k-song catalogue", "catalogue", "stage_new_songs_large_over_small",
         lambda v: None),
    ]
    have = {(r["section"], r["name"]) for r in results.rows}
    for label, section, name, ok in checks:
        if (section, name) in have:
            value = results.get(section, name)
            out.append(f"- {label}: {value:.3g} → {verdict(ok(value))}")
    return "\n".join(out)


def latest_airflow_report() -> Path | None:
    """airflow.md of the newest `make bench-airflow` run under bench/results/, if any."""
    found = sorted((REPO / "bench" / "results").glob("airflow-*/airflow.md"))
    return found[-1] if found else None


def report(out: Path, results: Measurements, timeline: list[dict[str, Any]], airflow_report: Path | None) -> str:
    """report.md of one run, from its measurements (the run's command and mode are rows of them)."""
    images = plots(out, results, timeline)
    run = {r["name"]: r for r in results.rows if r["section"] == "run"}
    wall = run["wall_time"]["value"] if "wall_time" in run else 0.0
    mode = "full" if run.get("full", {}).get("value") else "default (middle of the year cloned by SQL)"
    command = run["command"]["detail"] if "command" in run else "python bench/bench.py"
    text = [
        f"# Benchmark {out.name}",
        "",
        f"`{command}` — growth mode: {mode}; wall time {wall:.0f} s.",
        "Shared 2-core machine: absolute figures are noisy, ratios are taken within this one run on the",
        "same data and the same PostgreSQL (floor and ours interleaved, best of each).",
        "",
        "## Targets",
        "",
        targets(results),
        "",
        "## Measurements",
        "",
        table(results),
        "",
    ]
    airflow_md = Path(airflow_report, "airflow.md") if airflow_report else latest_airflow_report()
    if airflow_md is not None and airflow_md.is_file():
        text += [
            "## Orchestration (bench/airflow_overhead.py, `make bench-airflow`)",
            "",
            f"From `{airflow_md.parent.relative_to(REPO) if airflow_md.is_relative_to(REPO) else airflow_md.parent}`"
            " (its own run: it needs the real scheduler, so it is a separate target).",
            "",
            airflow_md.read_text(),
        ]
    text += [f"![{name}]({name})" for name in images]
    body = "\n".join(text) + "\n"
    (out / "report.md").write_text(body)
    return body


def write_latest(out: Path, body: str) -> None:
    """bench/RESULTS.md (committed): the report, with its plots copied to docs/bench_<name>.png."""
    latest = body.split("\n", 2)[2]
    for image in sorted(out.glob("*.png")):
        shutil.copyfile(image, REPO / "docs" / f"bench_{image.name}")
        latest = latest.replace(f"]({image.name})", f"](../docs/bench_{image.name})")
    (REPO / "bench" / "RESULTS.md").write_text(
        "# Latest `make bench` results\n\nGenerated by bench/bench.py (full report, CSV and plots under "
        f"bench/results/{out.name}/, not committed).\n\n" + latest
    )


def render(out: Path, airflow_report: Path | None = None) -> Path:
    """report.md, the plots and bench/RESULTS.md of the run in ``out``, from its CSV files."""
    results = Measurements().read_csv(out / "measurements.csv")
    write_latest(out, report(out, results, read_timeline(out), airflow_report))
    return out / "report.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="a run's folder under bench/results/")
    parser.add_argument("--airflow-report", type=Path, help="folder holding airflow.md (default: the newest)")
    args = parser.parse_args()
    print(f"report: {render(args.out, args.airflow_report)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
