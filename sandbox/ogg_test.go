package sandbox

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// ebml encodes one element with an 8-byte size (size < 0: unknown).
func ebml(id uint32, size int64, body ...[]byte) []byte {
	var b []byte
	for shift := 24; shift >= 0; shift -= 8 {
		if c := byte(id >> shift); c != 0 || len(b) > 0 {
			b = append(b, c)
		}
	}
	sz := make([]byte, 8)
	if size < 0 {
		binary.BigEndian.PutUint64(sz, 0x01FFFFFFFFFFFFFF)
	} else {
		binary.BigEndian.PutUint64(sz, 0x0100000000000000|uint64(size))
	}
	b = append(b, sz...)
	for _, x := range body {
		b = append(b, x...)
	}
	return b
}

func el(id uint32, body []byte) []byte { return ebml(id, int64(len(body)), body) }

// A WebM file as Chromium's MediaRecorder writes it (unknown sizes for the
// segment and the clusters) becomes an Ogg Opus stream with the same
// packets and the right granule positions.
func TestWebMToOgg(t *testing.T) {
	head := append([]byte("OpusHead"), 1, 1, 0x38, 0x01, 0x80, 0xBB, 0, 0, 0, 0, 0)
	packet := func(b byte) []byte { return []byte{0xFC, b, b, b} } // CELT 20 ms, one frame
	block := func(p []byte) []byte { return el(ebmlSimple, append([]byte{0x81, 0, 0, 0x80}, p...)) }
	webm := bytes.Join([][]byte{
		el(ebmlHeader, el(0x4282, []byte("webm"))),
		ebml(ebmlSegment, -1),
		el(ebmlTracks, el(ebmlTrack, append(el(ebmlCodecID, []byte("A_OPUS")), el(ebmlCodecPriv, head)...))),
		ebml(ebmlCluster, -1), el(0xE7, []byte{0}), block(packet(1)), block(packet(2)),
		ebml(ebmlCluster, -1), el(0xE7, []byte{40}), block(packet(3)),
	}, nil)
	if !isWebM(webm) {
		t.Fatal("not recognised as WebM")
	}
	ogg, err := webmToOgg(webm)
	if err != nil {
		t.Fatal(err)
	}
	var packets [][]byte
	var granules []int64
	var flags []byte
	for r := ogg; len(r) > 0; {
		if len(r) < 27 || string(r[:4]) != "OggS" {
			t.Fatalf("bad page at %d", len(ogg)-len(r))
		}
		nseg := int(r[26])
		size := 0
		for _, s := range r[27 : 27+nseg] {
			size += int(s)
		}
		page := append([]byte(nil), r[:27+nseg+size]...)
		crc := binary.LittleEndian.Uint32(page[22:])
		binary.LittleEndian.PutUint32(page[22:], 0)
		if oggCRC(page) != crc {
			t.Errorf("page %d: bad CRC", len(packets))
		}
		flags = append(flags, r[5])
		granules = append(granules, int64(binary.LittleEndian.Uint64(r[6:])))
		packets = append(packets, r[27+nseg:27+nseg+size])
		r = r[27+nseg+size:]
	}
	if len(packets) != 5 || !bytes.Equal(packets[0], head) || !bytes.HasPrefix(packets[1], []byte("OpusTags")) ||
		!bytes.Equal(packets[4], packet(3)) {
		t.Fatalf("packets: %q", packets)
	}
	if granules[2] != 960 || granules[4] != 2880 || flags[0] != 0x02 || flags[4] != 0x04 {
		t.Errorf("granules %v, flags %v", granules, flags)
	}
	// The CRC is Ogg's: CRC-32/POSIX's check value for "123456789"
	// without its final XOR.
	if got := oggCRC([]byte("123456789")); got != 0x89A1897F {
		t.Errorf("oggCRC = %#x", got)
	}
	if _, err := webmToOgg(el(ebmlHeader, nil)); err == nil {
		t.Error("a WebM without Opus converted")
	}
}
