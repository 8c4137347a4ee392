package cardread

import (
	"bytes"
	"image"
	"math"
	"slices"
	"testing"
	"time"

	"golang.org/x/image/tiff"
)

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, china)

const zhang = "11010519491231002X"

func TestExactNumbers(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"公民身份号码 11010519491231002X", []string{zhang}},
		{"11010519491231002x", []string{zhang}},
		{"110105 19491231 002X\n", []string{zhang}},
		{"1１0105194912310０2Ｘ", []string{zhang}},
		{"l1O1O519491231OO2X", []string{zhang}},     // letters read for digits
		{"911010519491231002X", []string{zhang}},    // a stray digit before
		{"号码：11010519491231002X。", []string{zhang}}, // punctuation around
		{"110105194912310021", nil},                 // checksum
		{"11010519491231002", nil},                  // 17 characters
		{"110105209912310028", nil},                 // born in the future
		{"11X10519491231002X", nil},                 // X inside
		{"1949 年 12 月 31 日 110105 住址", nil},         // digits of other fields
		{"440524188001010014 and 110101199003077838", []string{"440524188001010014", "110101199003077838"}},
	}
	for _, tt := range tests {
		if got := exactNumbers(tt.text, testNow); !slices.Equal(got, tt.want) {
			t.Errorf("exactNumbers(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestRepairs(t *testing.T) {
	numbers := func(rs []repair) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.number)
		}
		return out
	}
	// chi_sim read the 0 at index 15 as 6.
	if got := numbers(repairs("11010519491231602X", testNow)); !slices.Contains(got, zhang) {
		t.Errorf("swap repairs = %q, want them to contain %s", got, zhang)
	}
	// chi_sim added a character.
	if got := numbers(repairs("110105194912316002X", testNow)); !slices.Contains(got, zhang) {
		t.Errorf("deletion repairs = %q, want them to contain %s", got, zhang)
	}
}

// misread returns n with the digit at i replaced by d.
func misread(n string, i int, d byte) string {
	b := []byte(n)
	b[i] = d
	return string(b)
}

func TestPickNumber(t *testing.T) {
	// The most trusted valid reading wins.
	if got := pickNumber([]read{{"garbage"}, {zhang}, {"110101199003077838"}}, testNow); got != zhang {
		t.Errorf("pickNumber = %q, want %s", got, zhang)
	}
	// A lone misreading is never repaired: nothing backs the guess.
	for i := 0; i < 17; i++ {
		for d := byte('0'); d <= '9'; d++ {
			if zhang[i] == d {
				continue
			}
			m := misread(zhang, i, d)
			if got := pickNumber([]read{{"no digits"}, {m}, {m}}, testNow); got != "" {
				t.Errorf("%s read twice: picked %q", m, got)
			}
		}
	}
	// chi_sim reads a 0 as 6, the whitelisted English read gets another
	// digit wrong: together they give the number.
	if got := pickNumber([]read{{misread(zhang, 3, '7')}, {misread(zhang, 15, '6')}}, testNow); got != zhang {
		t.Errorf("two readings with different errors: picked %q, want %s", got, zhang)
	}
}

// TestPickNumberNeverWrong tries two readings of a number, each with one
// wrong digit, for every pair of positions and many digits: a number is
// picked often, and when it is, it is the right one.
func TestPickNumberNeverWrong(t *testing.T) {
	t.Parallel()
	picked, wrong, tries := 0, 0, 0
	for _, truth := range []string{zhang, "110101199003077838", "360426199101010071"} {
		for i := 0; i < 17; i++ {
			for _, di := range []byte("0368") {
				for j := 0; j < 17; j++ {
					for _, dj := range []byte("0158") {
						if truth[i] == di || truth[j] == dj {
							continue
						}
						a, b := misread(truth, i, di), misread(truth, j, dj)
						// Also as the pipeline has them: two crops of one line
						// read alike, and the full-page pass.
						for _, reads := range [][]read{{{a}, {b}}, {{a}, {a}, {b}}} {
							tries++
							switch got := pickNumber(reads, testNow); got {
							case "":
							case truth:
								picked++
							default:
								wrong++
								t.Errorf("readings %q (truth %s): picked %s", reads, truth, got)
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d pairs of misreadings: %d repaired, %d wrong", tries, picked, wrong)
	if picked == 0 {
		t.Error("nothing was ever repaired")
	}
}

func TestCleanName(t *testing.T) {
	tests := map[string]string{
		"张秀兰":          "张秀兰",
		"张秀兰\n":        "张秀兰",
		" 王 伟 ":        "王伟",
		"姓名 张秀兰":       "张秀兰",
		"姓名张秀兰":        "张秀兰",
		"欧阳秀英":         "欧阳秀英",
		"阿依古丽·买买提":     "阿依古丽·买买提",
		"阿依古丽.买买提":     "阿依古丽·买买提",
		"阿依古丽・买买提":     "阿依古丽·买买提",
		"阿依古丽 • 买买提":   "阿依古丽·买买提",
		"张秀兰·":         "张秀兰",
		"Zhang Xiulan": "",
		"张":            "",
		"":             "",
		"1949":         "",
		"一二三四五六七":      "",
		"张3秀兰":         "张秀兰",
		"·张秀兰":         "张秀兰",
		"名":            "",
	}
	for in, want := range tests {
		if got := cleanName(in); got != want {
			t.Errorf("cleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTSV(t *testing.T) {
	tsv := "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n" +
		"1\t1\t0\t0\t0\t0\t0\t0\t856\t540\t-1\t\n" +
		"5\t1\t1\t1\t1\t1\t47\t74\t47\t20\t96.74\t姓名\n" +
		"5\t2\t3\t1\t1\t1\t303\t445\t393\t26\t43.0\t110105194912316002X\n" +
		"5\t1\t1\t1\t1\t2\t10\t10\t0\t0\t90\tx\n" + // empty box
		"5\t1\t1\t1\t1\t3\t10\t10\t5\t5\t90\t \n" // no text
	ws := parseTSV(tsv)
	if len(ws) != 2 {
		t.Fatalf("parsed %d words: %+v", len(ws), ws)
	}
	if w := ws[0]; w.text != "姓名" || w.box != image.Rect(47, 74, 94, 94) || w.conf != 96.74 || w.page != 1 {
		t.Errorf("first word = %+v", w)
	}
	if ws[1].page != 2 {
		t.Errorf("second word's page = %d", ws[1].page)
	}
}

func TestNumberGroup(t *testing.T) {
	ws := []word{
		{text: "1949", box: image.Rect(130, 201, 221, 224)},
		{text: "公民身份号码", box: image.Rect(48, 452, 177, 472)},
		{text: "110105", box: image.Rect(303, 445, 430, 471)},
		{text: "19491231", box: image.Rect(440, 446, 610, 471)},
		{text: "002X", box: image.Rect(620, 445, 696, 472)},
		{text: "88", box: image.Rect(388, 259, 411, 301)},
	}
	box, text, ok := numberGroup(ws, 12)
	if !ok || box != image.Rect(303, 445, 696, 472) || exactNumbers(text, testNow)[0] != zhang {
		t.Errorf("numberGroup = %v %q %v", box, text, ok)
	}
	if _, _, ok := numberGroup(ws[:2], 12); ok {
		t.Error("found a number among the birth date's digits")
	}
	label, ok := labelBox(ws, "公民身份号码", 3)
	if !ok || label != ws[1].box {
		t.Errorf("labelBox = %v %v", label, ok)
	}
}

// TestNameFromNumber turns the card's layout by a few degrees and checks
// that the estimated name box holds the name's middle.
func TestNameFromNumber(t *testing.T) {
	for _, deg := range []float64{-5, -2.5, 0, 3, 5} {
		th := deg * math.Pi / 180
		const scale, ox, oy = 1.3, 200.0, 150.0
		at := func(x, y float64) (float64, float64) { // card → photo
			return ox + scale*(x*math.Cos(th)-y*math.Sin(th)), oy + scale*(x*math.Sin(th)+y*math.Cos(th))
		}
		// The number's box in the photo: its four corners turned.
		var num image.Rectangle
		for i, c := range [][2]float64{{cardNumberX0, cardNumberCY - 13}, {cardNumberX0 + cardNumberW, cardNumberCY - 13},
			{cardNumberX0, cardNumberCY + 13}, {cardNumberX0 + cardNumberW, cardNumberCY + 13}} {
			x, y := at(c[0], c[1])
			p := image.Rect(int(x), int(y), int(x)+1, int(y)+1)
			if i == 0 {
				num = p
			} else {
				num = num.Union(p)
			}
		}
		box, h := nameFromNumber(num, deg)
		for _, c := range [][2]float64{{cardNameX0 + 10, cardNameCY}, {cardNameX0 + 100, cardNameCY}} {
			x, y := at(c[0], c[1])
			if !image.Pt(int(x), int(y)).In(box) {
				t.Errorf("%v°: name point %v,%v not in %v", deg, x, y, box)
			}
		}
		if want := cardNameH * scale; math.Abs(float64(h)-want) > 3 {
			t.Errorf("%v°: name height %d, want about %.0f", deg, h, want)
		}
	}
}

func TestMultiTIFF(t *testing.T) {
	a := image.NewGray(image.Rect(0, 0, 7, 3))
	for i := range a.Pix {
		a.Pix[i] = uint8(i * 9)
	}
	b := image.NewGray(image.Rect(0, 0, 2, 2))
	data := multiTIFF([]*image.Gray{a, b})
	img, err := tiff.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok || !bytes.Equal(g.Pix, a.Pix) || g.Bounds() != a.Bounds() {
		t.Errorf("first page decodes as %T %v", img, img.Bounds())
	}
}

func TestSkewAndRotate(t *testing.T) {
	// A row of blocks, like a line of digits, turned by 3°.
	g := image.NewGray(image.Rect(0, 0, 400, 120))
	for i := range g.Pix {
		g.Pix[i] = 255
	}
	for x := 20; x < 380; x++ {
		if x%20 < 14 {
			for y := 50; y < 75; y++ {
				g.Pix[y*g.Stride+x] = 0
			}
		}
	}
	turned := rotate(g, 3, 200, 60, 255)
	if got := skew(binarize(turned, 128), 6); math.Abs(got-3) > 0.5 {
		t.Errorf("skew = %v, want about 3", got)
	}
	if got := skew(binarize(g, 128), 6); got != 0 {
		t.Errorf("skew of a straight line = %v", got)
	}
	back := rotate90(rotate90(g, 90), 270)
	if !bytes.Equal(back.Pix, g.Pix) {
		t.Error("rotate90 by 90 then 270 changed the image")
	}
	if r := rotate90(g, 90).Bounds(); r.Dx() != 120 || r.Dy() != 400 {
		t.Errorf("rotate90 bounds %v", r)
	}
}

// TestHoldsLabel: lines of the card other than the name are never offered
// as one, names that share characters with the labels are.
func TestHoldsLabel(t *testing.T) {
	for name, want := range map[string]bool{
		"女民族汉":     true, // the sex and ethnicity line with its labels
		"男民旅汉":     true, // 族 misread: 民 alone is no label, but 男 starts it
		"性刷男":      true,
		"民族汉":      true,
		"出生年月":     true,
		"住址北京市":    true,
		"公民身份号码":   true,
		"姓名张秀兰":    true,
		"张秀兰":      false,
		"张民生":      false, // 民 and 生 are in names
		"李月华":      false,
		"欧阳秀英":     false,
		"马文华":      false,
		"阿依古丽·买买提": false,
	} {
		if got := holdsLabel(name); got != want {
			t.Errorf("holdsLabel(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestFlatten puts a shadow over the right half of a page of "text" and
// checks that after flatten the text is as dark against its paper on both
// sides, so that one threshold separates ink from paper everywhere.
func TestFlatten(t *testing.T) {
	const w, h = 1200, 400
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := 230.0
			if (y/40)%2 == 1 && x%30 < 6 { // strokes on every other band
				v = 40
			}
			// The shadow: a soft edge over 40 px around the middle.
			v *= 1 - 0.65/(1+math.Exp(-float64(x-w/2)/10))
			g.Pix[y*g.Stride+x] = uint8(v)
		}
	}
	// Without flatten one threshold cannot serve both halves: the
	// shadowed paper is as dark as ink.
	if b := binarize(g, otsu(g)); b.Pix[50*b.Stride+w*3/4+10] != 0 && b.Pix[50*b.Stride+w/4+2] == 0 {
		t.Fatal("the test page does not need flattening")
	}
	f := flatten(g)
	b := binarize(f, otsu(f))
	for _, p := range []image.Point{{10, 50}, {w/2 + 70, 50}, {w*3/4 + 10, 50}, {w - 20, 130}} {
		if v := b.Pix[p.Y*b.Stride+p.X]; v != 255 {
			t.Errorf("paper at %v is black after flatten", p)
		}
	}
	for _, p := range []image.Point{{2, 50}, {w/2 + 62, 50}, {w - 28, 50}} { // stroke columns, band 1
		if v := b.Pix[p.Y*b.Stride+p.X]; v != 0 {
			t.Errorf("stroke at %v is white after flatten", p)
		}
	}
}
