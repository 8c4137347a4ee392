package sandbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Telegram voice notes are Opus in an Ogg container, but Chromium's
// MediaRecorder writes Opus in WebM only. webmToOgg moves the Opus packets
// from one container to the other (no re-encoding), so the bot receives a
// voice note like a phone's.

// EBML element ids used below.
const (
	ebmlHeader    = 0x1A45DFA3
	ebmlSegment   = 0x18538067
	ebmlCluster   = 0x1F43B675
	ebmlTracks    = 0x1654AE6B
	ebmlTrack     = 0xAE
	ebmlBlockGrp  = 0xA0
	ebmlCodecID   = 0x86
	ebmlCodecPriv = 0x63A2
	ebmlSimple    = 0xA3
	ebmlBlock     = 0xA1
)

// isWebM reports whether data starts like an EBML (WebM) file.
func isWebM(data []byte) bool {
	return len(data) >= 4 && binary.BigEndian.Uint32(data) == ebmlHeader
}

// webmToOgg remuxes a WebM file with one Opus track to Ogg Opus.
func webmToOgg(data []byte) ([]byte, error) {
	var head []byte
	var packets [][]byte
	codec := ""
	r := data
	for len(r) > 0 {
		id, n := readVint(r, false)
		if n == 0 {
			return nil, errors.New("webm: bad element id")
		}
		r = r[n:]
		size, m := readVint(r, true)
		if m == 0 {
			return nil, errors.New("webm: bad element size")
		}
		r = r[m:]
		switch id {
		case ebmlSegment, ebmlCluster, ebmlTracks, ebmlTrack, ebmlBlockGrp:
			// Containers: read on into their children. Live recordings
			// leave the sizes of segment and clusters unknown.
			continue
		}
		if size < 0 || size > int64(len(r)) {
			if size < 0 {
				return nil, fmt.Errorf("webm: element %#x of unknown size", id)
			}
			size = int64(len(r)) // a recording cut short: keep what is there
		}
		body := r[:size]
		r = r[size:]
		switch id {
		case ebmlCodecID:
			codec = string(body)
		case ebmlCodecPriv:
			head = body
		case ebmlSimple, ebmlBlock:
			_, tn := readVint(body, true)
			if tn == 0 || len(body) < tn+3 {
				return nil, errors.New("webm: short block")
			}
			if flags := body[tn+2]; flags&0x06 != 0 {
				return nil, errors.New("webm: laced blocks are not supported")
			}
			if p := body[tn+3:]; len(p) > 0 {
				packets = append(packets, p)
			}
		}
	}
	if codec != "A_OPUS" {
		return nil, fmt.Errorf("webm: codec %q, want A_OPUS", codec)
	}
	if !bytes.HasPrefix(head, []byte("OpusHead")) || len(head) < 19 {
		return nil, errors.New("webm: no OpusHead")
	}
	if len(packets) == 0 {
		return nil, errors.New("webm: no audio")
	}
	var out bytes.Buffer
	w := oggWriter{out: &out, serial: 0x5a4d4258}
	w.page(head, 0, 0x02)
	tags := append([]byte("OpusTags"), 0, 0, 0, 0, 0, 0, 0, 0) // empty vendor, no comments
	w.page(tags, 0, 0)
	var granule int64
	for i, p := range packets {
		granule += int64(opusSamples(p))
		flags := byte(0)
		if i == len(packets)-1 {
			flags = 0x04
		}
		w.page(p, granule, flags)
	}
	return out.Bytes(), nil
}

// readVint reads an EBML variable-length integer. For sizes the marker bit
// is removed and all ones means unknown (-1); ids keep the marker.
func readVint(b []byte, isSize bool) (int64, int) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0
	}
	n := 1
	for mask := byte(0x80); b[0]&mask == 0; mask >>= 1 {
		n++
	}
	if n > 8 || len(b) < n {
		return 0, 0
	}
	v := int64(b[0])
	if isSize {
		v &= int64(0xFF >> n)
	}
	allOnes := v == int64(0xFF>>n)
	for _, c := range b[1:n] {
		v = v<<8 | int64(c)
		allOnes = allOnes && c == 0xFF
	}
	if isSize && allOnes {
		return -1, n
	}
	return v, n
}

// opusSamples is a packet's duration in 48 kHz samples, from its TOC byte
// (RFC 6716, 3.1).
func opusSamples(p []byte) int {
	if len(p) == 0 {
		return 0
	}
	config := int(p[0] >> 3)
	var frame int
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = []int{480, 960, 1920, 2880}[config%4]
	case config < 16: // hybrid: 10, 20 ms
		frame = []int{480, 960}[config%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = []int{120, 240, 480, 960}[config%4]
	}
	switch p[0] & 3 {
	case 0:
		return frame
	case 1, 2:
		return 2 * frame
	default:
		if len(p) < 2 {
			return 0
		}
		return int(p[1]&0x3F) * frame
	}
}

// oggWriter writes one logical stream, one packet per page (RFC 3533).
type oggWriter struct {
	out    *bytes.Buffer
	serial uint32
	seq    uint32
}

func (w *oggWriter) page(packet []byte, granule int64, flags byte) {
	var segs []byte
	n := len(packet)
	for n >= 255 {
		segs = append(segs, 255)
		n -= 255
	}
	segs = append(segs, byte(n))
	h := make([]byte, 27, 27+len(segs)+len(packet))
	copy(h, "OggS")
	h[5] = flags
	binary.LittleEndian.PutUint64(h[6:], uint64(granule))
	binary.LittleEndian.PutUint32(h[14:], w.serial)
	binary.LittleEndian.PutUint32(h[18:], w.seq)
	h[26] = byte(len(segs))
	h = append(append(h, segs...), packet...)
	binary.LittleEndian.PutUint32(h[22:], oggCRC(h))
	w.out.Write(h)
	w.seq++
}

// oggCRC is Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, no
// initial or final XOR (hash/crc32 only has reflected tables).
func oggCRC(b []byte) uint32 {
	var crc uint32
	for _, c := range b {
		crc ^= uint32(c) << 24
		for i := 0; i < 8; i++ {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04C11DB7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
