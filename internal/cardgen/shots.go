package cardgen

import (
	"fmt"
	"image"
	"sync"

	"pensionbot/idcard"
)

// sample returns a Card whose number is region + birth + seq followed by
// the right check character, so that a typo in a fixture cannot make an
// invalid number that a reader would rightly refuse.
func sample(name, region, birth, seq string, opts ...func(*Card)) Card {
	first := region + birth + seq
	c, err := idcard.CheckChar(first)
	if err != nil {
		panic(fmt.Sprintf("cardgen: bad sample number for %s: %v", name, err))
	}
	card := Card{Name: name, Number: first + string(c)}
	for _, o := range opts {
		o(&card)
	}
	return card
}

func ethnicity(e string) func(*Card) { return func(c *Card) { c.Ethnicity = e } }
func address(a string) func(*Card)   { return func(c *Card) { c.Address = a } }

// People are the cards of ShotFixtures: the samples above and more, with
// two-, three- and four-character names, a dotted minority name, other
// ethnicities, and names that share characters with the card's labels
// (民, 生, 月), which a reader must not take for labels.
var People = []Card{
	ZhangXiulan, LiJianguo, WangWei, ChenJing, LiuYang, OuyangXiu, Ayguli, HuangYongfu,
	sample("赵淑芬", "110108", "19510314", "024", address("北京市海淀区中关村南大街27号")),
	sample("孙德明", "320102", "19470902", "031", address("江苏省南京市玄武区中山路18号")),
	sample("周桂英", "510104", "19550620", "046", address("四川省成都市锦江区红星路二段70号")),
	sample("吴国强", "330106", "19580101", "057", address("浙江省杭州市西湖区文三路90号")),
	sample("马文华", "640104", "19521108", "013", ethnicity("回"), address("宁夏银川市兴庆区解放西街2号")),
	sample("张民生", "410102", "19490715", "075", address("河南省郑州市中原区建设西路11号")),
	sample("李月华", "210102", "19560228", "062", ethnicity("满"), address("辽宁省沈阳市和平区南京北街6号")),
	sample("胡志刚", "420106", "19600512", "039", address("湖北省武汉市武昌区中南路99号")),
	sample("郭春梅", "370102", "19571223", "048", address("山东省济南市历下区泉城路15号")),
	sample("林海", "350102", "19480406", "017", address("福建省福州市鼓楼区五四路3号")),
	sample("巴特尔", "150102", "19530809", "055", ethnicity("蒙古"), address("内蒙古呼和浩特市新城区中山东路8号")),
	sample("何秀珍", "450103", "19461030", "084", ethnicity("壮"), address("广西南宁市青秀区民族大道100号")),
}

// ShotFixture is one picture of ShotFixtures: a card and how it was
// photographed. Kind names the damage, for reports.
type ShotFixture struct {
	Name string
	Kind string
	Card Card
	Shot Shot
}

// ShotFixtures are phone photos of cards with the kinds of damage real
// photos from older people have: turned a few degrees, on their side or
// upside down, in perspective, small in a cluttered scene, compressed to
// JPEG quality 15, half in shadow, with motion blur, noise, warm light, at
// a small size, on a patterned cloth, and some of these together. They
// are made for measuring readers on material they were not tuned on, so
// add to them rather than change them. Each is deterministic.
func ShotFixtures() []ShotFixture {
	p := People
	type k struct {
		kind string
		shot Shot
	}
	list := []k{
		{"turned", Shot{Degrees: 4}},
		{"turned", Shot{Degrees: -6, Backdrop: BackdropCloth}},
		{"turned", Shot{Degrees: 7.5, CardShare: 0.6}},
		{"turned", Shot{Degrees: -3, Noise: 4}},
		{"sideways", Shot{QuarterTurns: 1}},
		{"upside-down", Shot{QuarterTurns: 2}},
		{"sideways", Shot{QuarterTurns: 3, Degrees: 2}},
		{"upside-down", Shot{QuarterTurns: 2, Degrees: -3, Backdrop: BackdropCloth}},
		{"perspective", Shot{Tilt: 0.12}},
		{"perspective", Shot{Tilt: -0.10, Degrees: 2}},
		{"perspective", Shot{TiltSide: 0.10}},
		{"perspective", Shot{Tilt: 0.15, TiltSide: -0.05, Degrees: -2}},
		{"small-clutter", Shot{CardShare: 0.42, OffsetX: -0.15, OffsetY: 0.1, Backdrop: BackdropClutter, Seed: 1}},
		{"small-clutter", Shot{CardShare: 0.45, OffsetX: 0.18, OffsetY: -0.12, Degrees: 3, Backdrop: BackdropClutter, Seed: 2}},
		{"small-clutter", Shot{CardShare: 0.40, OffsetY: 0.15, Degrees: -2, Backdrop: BackdropClutter, Seed: 3}},
		{"small-clutter", Shot{CardShare: 0.48, OffsetX: -0.1, Backdrop: BackdropClutter, Seed: 4, Noise: 3}},
		{"jpeg15", Shot{Quality: 15}},
		{"jpeg15", Shot{Quality: 15, Degrees: -2.5}},
		{"jpeg15", Shot{Quality: 15, Backdrop: BackdropCloth, CardShare: 0.6}},
		{"jpeg15", Shot{Quality: 12, Noise: 3}},
		{"shadow", Shot{Shadow: 0.45}},
		{"shadow", Shot{Shadow: 0.35, ShadowDegrees: 30}},
		{"shadow", Shot{Shadow: 0.4, ShadowDegrees: 90}},
		{"shadow", Shot{Shadow: 0.4, ShadowDegrees: -60, Degrees: 2}},
		{"motion", Shot{MotionBlur: 5}},
		{"motion", Shot{MotionBlur: 6, MotionDegrees: 90}},
		{"motion", Shot{MotionBlur: 5, MotionDegrees: 30, Degrees: -2}},
		{"motion", Shot{MotionBlur: 4, MotionDegrees: 0, Noise: 3}},
		{"noise", Shot{Noise: 8}},
		{"noise", Shot{Noise: 12, Seed: 7}},
		{"noise", Shot{Noise: 10, Degrees: 3, Backdrop: BackdropCloth}},
		{"warm", Shot{Warm: 1}},
		{"warm", Shot{Warm: 0.8, Noise: 5, Degrees: -2}},
		{"warm", Shot{Warm: 1, Shadow: 0.6}},
		{"small", Shot{Width: 800, Height: 600, CardShare: 0.75}},
		{"small", Shot{Width: 720, Height: 540, CardShare: 0.8, Degrees: 2}},
		{"small", Shot{Width: 640, Height: 480, CardShare: 0.85}},
		{"small", Shot{Width: 960, Height: 720, CardShare: 0.55, Quality: 40}},
		{"cloth", Shot{Backdrop: BackdropCloth}},
		{"cloth", Shot{Backdrop: BackdropCloth, Degrees: 5, CardShare: 0.55}},
		{"cloth", Shot{Backdrop: BackdropCloth, Tilt: 0.08, Quality: 30}},
		{"mixed", Shot{QuarterTurns: 2, Shadow: 0.5, Noise: 5}},
		{"mixed", Shot{QuarterTurns: 1, Tilt: 0.08, Warm: 0.7, Quality: 30}},
		{"mixed", Shot{CardShare: 0.5, Backdrop: BackdropClutter, Seed: 5, MotionBlur: 4, Quality: 25}},
	}
	out := make([]ShotFixture, len(list))
	for i, e := range list {
		c := p[i%len(p)]
		e.shot.Seed += uint64(i) * 101
		out[i] = ShotFixture{Name: fmt.Sprintf("%02d-%s", i, e.kind), Kind: e.kind, Card: c, Shot: e.shot}
	}
	return out
}

// rendered caches Render's cards for ShotFixture.Encode: many shots show
// the same card, and Render gives the same pixels for the same Card.
// Shoot only reads the card.
var rendered sync.Map // Card → *image.RGBA

// Encode renders the fixture's photo as JPEG.
func (f ShotFixture) Encode() ([]byte, error) {
	img, ok := rendered.Load(f.Card)
	if !ok {
		r, err := Render(f.Card)
		if err != nil {
			return nil, err
		}
		img, _ = rendered.LoadOrStore(f.Card, r)
	}
	return Shoot(img.(*image.RGBA), f.Shot)
}
