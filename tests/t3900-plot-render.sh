#!/bin/sh
# t3900: the SVG plot of lib/plot.c (aiops-eval --plot) rendered by headless Chromium:
# the picture has the plot's size, many colours, ink in both panels and none between
# them. A blank plot and a truncated one (Chromium draws an error box above what it
# parsed) must fail the same check. plot_renders checks any plot SVG in one line.
# Test bodies are single-quoted on purpose: lib.sh evals them.
# shellcheck disable=SC2016 source=tests/lib.sh

test_description='plot: the SVG renders in headless Chromium, not blank'
. "$(dirname "$0")/lib.sh"

test_lazy_prereq CHROMIUM 'command -v chromium'
test_lazy_prereq PIL '"$PYTHON" -c "import PIL"'

PNGCHECK=$TEST_DIRECTORY/helpers/pngcheck.py

# render_svg SVG PNG: a 1200x700 screenshot of SVG. As root Chromium needs
# --no-sandbox; --headless needs no display; a profile of its own in the trash
# directory; killed (with its children: timeout signals its process group) after
# 120 s. Chromium's chatter about D-Bus goes to chromium.log.
render_svg () {
	rs_in=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") &&
	rs_out=$(cd "$(dirname "$2")" && pwd)/$(basename "$2") &&
	rm -f "$rs_out" &&
	timeout -k 10 120 chromium --headless --no-sandbox --disable-gpu \
		--disable-dev-shm-usage --no-first-run --no-default-browser-check \
		--hide-scrollbars --mute-audio --force-device-scale-factor=1 \
		--window-size=1200,700 --user-data-dir="$TRASH_DIRECTORY/chromium-profile" \
		--screenshot="$rs_out" "file://$rs_in" >chromium.log 2>&1 &&
	test -s "$rs_out"
}

# check_plot_png PNG [pngcheck options]: the picture of a plot from aiops_plot_svg
# (1200x700; series panel 70..970 x 50..380, score panel 70..970 x 410..630, legend
# from x 990): inside each panel (off its frame) at least 0.25% ink, where a blank
# panel with a "no rows" note has about 0.1%; next to nothing between the panels and
# under the legend.
check_plot_png () {
	"$PYTHON" "$PNGCHECK" --size 1200x700 --colours 16 \
		--region series:73,53,967,377:0.0025 \
		--region score:73,413,967,627:0.0025 \
		--blank between:60,383,980,407:0.001 \
		--blank under-legend:990,500,1200,640:0.001 "$@"
}

# plot_renders SVG: render SVG (written by aiops_plot_svg) to SVG.png and check it.
plot_renders () {
	render_svg "$1" "$1.png" &&
	check_plot_png "$1.png"
}

test_expect_success 'a sample plot from the unit test' '
	AIOPS_PLOT_SAMPLE=$PWD/sample.svg "$TESTBIN/test-plot" &&
	test_path_is_file sample.svg &&
	"$PYTHON" -c "import sys, xml.etree.ElementTree as E; E.parse(sys.stdin)" <sample.svg
'

test_expect_success CHROMIUM 'the sample plot renders and is not blank' '
	plot_renders sample.svg >check.out &&
	cat check.out &&
	test_grep "^region series" check.out
'

test_expect_success CHROMIUM 'a blank plot fails the check' '
	cat >blank.svg <<-\EOF &&
	<?xml version="1.0" encoding="UTF-8"?>
	<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="1200" height="700"
	 font-family="sans-serif" font-size="11">
	<rect width="1200" height="700" fill="#ffffff"/>
	<text x="70" y="30" font-size="16" font-weight="bold">nothing to see</text>
	<rect x="70" y="50" width="900" height="330" fill="none" stroke="#808080"/>
	<rect x="70" y="410" width="900" height="220" fill="none" stroke="#808080"/>
	<text x="520" y="215" fill="#808080">no rows</text>
	<text x="520" y="520" fill="#808080">no rows</text>
	</svg>
	EOF
	render_svg blank.svg blank.png &&
	test_must_fail check_plot_png blank.png 2>err &&
	cat err &&
	test_grep "region series: ink" err &&
	test_grep "region score: ink" err
'

test_expect_success CHROMIUM 'a truncated plot fails the check' '
	head -c 30000 sample.svg >cut.svg &&
	render_svg cut.svg cut.png &&
	test_must_fail check_plot_png cut.png 2>err &&
	cat err &&
	test_grep "region between: ink" err
'

test_expect_success CHROMIUM,PIL 'the PNG decoder by hand agrees with PIL' '
	check_plot_png --decoder zlib sample.svg.png >zlib.out &&
	check_plot_png --decoder pil sample.svg.png >pil.out &&
	test_cmp pil.out zlib.out
'

test_expect_success PIL 'pngcheck measures ink: a 10x10 black square in 100x100' '
	"$PYTHON" -c "
from PIL import Image
im = Image.new(\"RGB\", (100, 100), (255, 255, 255))
for x in range(20, 30):
    for y in range(40, 50):
        im.putpixel((x, y), (0, 0, 0))
im.putpixel((90, 90), (230, 230, 230))
im.save(\"sq.png\")
" &&
	cat >expect <<-\EOF &&
	size 100x100
	colours 3
	region all 0.0100
	region square 1.0000
	EOF
	for d in pil zlib
	do
		"$PYTHON" "$PNGCHECK" --decoder $d --size 100x100 --colours 3 \
			--region all:0,0,100,100:0.01 --region square:20,40,30,50:1 \
			sq.png >actual &&
		test_cmp expect actual || return 1
	done &&
	test_expect_code 1 "$PYTHON" "$PNGCHECK" --colours 4 sq.png &&
	test_expect_code 1 "$PYTHON" "$PNGCHECK" --size 100x101 sq.png &&
	test_expect_code 1 "$PYTHON" "$PNGCHECK" --blank sq:0,0,100,100:0.009 sq.png &&
	echo "not a png" >bad.png &&
	test_expect_code 2 "$PYTHON" "$PNGCHECK" --decoder zlib bad.png
'

test_expect_success CHROMIUM 'aiops-eval --plot of the shipped demo data renders and is not blank' '
	aiops-ingest -q --step 5m --labels "$TESTDATA/metrics-demo.labels" --split 0.6 \
		--scale zscore -o demo "$TESTDATA/metrics-demo.csv" &&
	aiops-train -q --space zscore -o demo.model demo.train.tensor &&
	aiops-eval -q --plot eval.svg demo.model demo.test.tensor &&
	plot_renders eval.svg
'

test_done
