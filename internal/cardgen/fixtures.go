package cardgen

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"path"
)

// Variant says how a fixture's picture was made.
type Variant string

// Variants of a fixture.
const (
	VariantClean    Variant = "clean"     // Render as it is
	VariantPhoto    Variant = "photo"     // OnTable: a phone picture of the card on a table
	VariantDark     Variant = "dark"      // Dark
	VariantBlurred  Variant = "blurred"   // Blurred, radius 2
	VariantTiny     Variant = "tiny"      // Tiny, 360 px wide
	VariantGlare    Variant = "glare"     // Glare
	VariantNotImage Variant = "not-image" // a file that is not a picture at all
)

// Fixture is one file of testdata/cards: the card it shows (the truth a
// reader is scored against) and how the picture was made.
type Fixture struct {
	File    string // file name in testdata/cards; .png, .jpg or another extension
	Card    Card   // zero for VariantNotImage
	Variant Variant
	Degrees float64
	// Hard marks degraded pictures a reader may fail to read. It must still
	// not return a wrong number.
	Hard bool
}

// Sample cards. The numbers are valid sample numbers (checksums pass), the
// names and addresses are made up.
var (
	ZhangXiulan = Card{Name: "张秀兰", Number: "11010519491231002X", Address: "北京市朝阳区建国路88号院3号楼2单元501室"}
	LiJianguo   = Card{Name: "李建国", Number: "53010219200508011X", Address: "云南省昆明市五华区华山南路12号"}
	WangWei     = Card{Name: "王伟", Number: "110101199003077838", Address: "北京市东城区东华门大街5号"}
	ChenJing    = Card{Name: "陈静", Number: "34052419800101001X", Address: "安徽省宣城市广德县桃州镇横山路7号"}
	LiuYang     = Card{Name: "刘洋", Number: "360426199101010071", Address: "江西省九江市德安县蒲亭镇宝塔路16号"}
	OuyangXiu   = Card{Name: "欧阳秀英", Number: "11010219840406970X", Address: "北京市西城区西长安街3号院2号楼"}
	Ayguli      = Card{Name: "阿依古丽·买买提", Number: "11010119900307002X", Ethnicity: "维吾尔", Address: "新疆乌鲁木齐市天山区解放南路9号"}
	HuangYongfu = Card{Name: "黄永福", Number: "440524188001010014", Address: "广东省汕头市潮阳区棉城镇中山路1号"}
)

// Fixtures lists the files cmd/gencards writes to testdata/cards.
func Fixtures() []Fixture {
	return []Fixture{
		{File: "zhang_xiulan.png", Card: ZhangXiulan, Variant: VariantClean},
		{File: "zhang_xiulan_photo.jpg", Card: ZhangXiulan, Variant: VariantPhoto, Degrees: 2.5},
		{File: "zhang_xiulan_dark.jpg", Card: ZhangXiulan, Variant: VariantDark, Hard: true},
		{File: "zhang_xiulan_blurred.jpg", Card: ZhangXiulan, Variant: VariantBlurred, Hard: true},
		{File: "zhang_xiulan_tiny.jpg", Card: ZhangXiulan, Variant: VariantTiny, Hard: true},
		{File: "zhang_xiulan_glare.jpg", Card: ZhangXiulan, Variant: VariantGlare, Hard: true},
		{File: "li_jianguo.jpg", Card: LiJianguo, Variant: VariantClean},
		{File: "li_jianguo_photo.jpg", Card: LiJianguo, Variant: VariantPhoto, Degrees: -3},
		{File: "wang_wei.jpg", Card: WangWei, Variant: VariantClean},
		{File: "wang_wei_photo.jpg", Card: WangWei, Variant: VariantPhoto, Degrees: 1.5},
		{File: "chen_jing.jpg", Card: ChenJing, Variant: VariantClean},
		{File: "liu_yang.jpg", Card: LiuYang, Variant: VariantClean},
		{File: "ouyang_xiuying.jpg", Card: OuyangXiu, Variant: VariantClean},
		{File: "ayguli_maimaiti.jpg", Card: Ayguli, Variant: VariantClean},
		{File: "huang_yongfu.jpg", Card: HuangYongfu, Variant: VariantClean},
		{File: "not_a_card.pdf", Variant: VariantNotImage},
	}
}

// Image renders the fixture's picture. It fails for VariantNotImage.
func (f Fixture) Image() (*image.RGBA, error) {
	if f.Variant == VariantNotImage {
		return nil, fmt.Errorf("cardgen: %s is not an image", f.File)
	}
	img, err := Render(f.Card)
	if err != nil {
		return nil, err
	}
	switch f.Variant {
	case VariantClean:
		return img, nil
	case VariantPhoto:
		return OnTable(img, f.Degrees), nil
	case VariantDark:
		return Dark(img), nil
	case VariantBlurred:
		return Blurred(img, 2), nil
	case VariantTiny:
		return Tiny(img, 360), nil
	case VariantGlare:
		return Glare(img), nil
	}
	return nil, fmt.Errorf("cardgen: unknown variant %q", f.Variant)
}

// notACard is the content of the VariantNotImage fixture: the start of a PDF, as
// when someone sends a scanned document instead of a photo.
const notACard = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" +
	"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"

// JPEGQuality is the quality .jpg fixtures are written with.
const JPEGQuality = 85

// Encode returns the fixture's file content: PNG for .png, JPEG at
// JPEGQuality for .jpg, and a small PDF-like file for VariantNotImage.
func (f Fixture) Encode() ([]byte, error) {
	if f.Variant == VariantNotImage {
		return []byte(notACard), nil
	}
	img, err := f.Image()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	switch path.Ext(f.File) {
	case ".png":
		enc := png.Encoder{CompressionLevel: png.BestCompression}
		err = enc.Encode(&buf, img)
	case ".jpg", ".jpeg":
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: JPEGQuality})
	default:
		err = fmt.Errorf("cardgen: no encoder for %s", f.File)
	}
	if err != nil {
		return nil, fmt.Errorf("cardgen: encode %s: %w", f.File, err)
	}
	return buf.Bytes(), nil
}
