package emrtd

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCommandEncoding(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Command
		hex  string
	}{
		// Short cases 1-4.
		{"case 1", Command{INS: 0xA4, P1: 4}, "00A40400"},
		{"case 2", Command{INS: 0xB0, Ne: 4}, "00B0000004"},
		{"case 2, Le 256", Command{INS: 0xB0, Ne: 256}, "00B0000000"},
		{"case 3", Command{INS: 0xA4, P1: 2, P2: 0x0C, Data: []byte{1, 0x1E}}, "00A4020C02011E"},
		{"case 4", Command{INS: 0x86, Data: []byte{0x7C, 0}, Ne: 256}, "00860000027C0000"},
		// Extended cases.
		{"case 2E", Command{INS: 0xB0, Ne: 4080}, "00B00000000FF0"},
		{"case 2E, Le 65536", Command{INS: 0xB0, Ne: 65536}, "00B00000000000"},
		{"case 3E", Command{INS: 0xD6, Data: bytes.Repeat([]byte{0xAA}, 300)}, "00D600000001 2C" + string(bytes.Repeat([]byte("AA"), 300))},
		{"case 4E", Command{INS: 0x88, Data: []byte{1, 2}, Ne: 256, Extended: true}, "00880000000002 0102 0100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eqHex(t, "encoding", tc.c.Bytes(), tc.hex)
			back, err := ParseCommand(tc.c.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back.Data, tc.c.Data) || back.Ne != tc.c.Ne || back.INS != tc.c.INS {
				t.Errorf("round trip %+v", back)
			}
		})
	}
	for _, bad := range []string{"00", "00A4020C05011E", "00B000000001", "00B000000000"} {
		if _, err := ParseCommand(unhex(t, bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCommand(%s) err = %v", bad, err)
		}
	}
}

func TestStatusErrors(t *testing.T) {
	for sw, want := range map[uint16]error{
		0x6982: ErrSecurityNotSatisfied, 0x6A82: ErrFileNotFound, 0x6700: ErrWrongLength, 0x6C10: ErrWrongLength,
		0x6D00: ErrINSNotSupported, 0x6988: ErrSMDataIncorrect, 0x6987: ErrSMDataMissing, 0x6A80: ErrWrongData,
		0x6A88: ErrReferenceNotFound, 0x6300: ErrVerificationFailed, 0x63C2: ErrVerificationFailed, 0x6282: ErrEndOfFile,
		0x6F00: ErrCardError,
	} {
		err := Response{SW: sw}.Err()
		if !errors.Is(err, want) {
			t.Errorf("%04X: %v is not %v", sw, err, want)
		}
		var se *StatusError
		if !errors.As(err, &se) || se.SW != sw {
			t.Errorf("%04X: not a *StatusError", sw)
		}
	}
	if (Response{SW: 0x9000}).Err() != nil {
		t.Error("9000 is an error")
	}
}

func TestTLV(t *testing.T) {
	for _, tc := range []struct {
		hex   string
		tag   uint32
		value string
	}{
		{"5F1F03414243", 0x5F1F, "414243"},
		{"7F6181820102", 0x7F61, ""}, // truncated: checked below
		{"0400", 0x04, ""},
		{"8E08" + "0102030405060708", 0x8E, "0102030405060708"},
	} {
		tl, _, err := ParseTLV(unhex(t, tc.hex))
		if tc.hex == "7F6181820102" {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("truncated TLV: %v", err)
			}
			continue
		}
		if err != nil || tl.Tag != tc.tag {
			t.Fatalf("%s: %+v %v", tc.hex, tl, err)
		}
		eqHex(t, "value", tl.Value, tc.value)
		eqHex(t, "re-encoded", EncodeTLV(tl.Tag, tl.Value), tc.hex)
	}
	big := bytes.Repeat([]byte{7}, 70000)
	tl, rest, err := ParseTLV(EncodeTLV(0x75, big))
	if err != nil || len(rest) != 0 || !bytes.Equal(tl.Value, big) {
		t.Errorf("long TLV: %v", err)
	}
	if n, err := tlvTotalLen(EncodeTLV(0x77, big)[:6]); err != nil || n != 70000+5 {
		t.Errorf("tlvTotalLen = %d, %v", n, err)
	}
}

// The specimens of ICAO 9303 Part 4 (TD3) and Part 5 (TD1).
func TestParseMRZ(t *testing.T) {
	td3, err := ParseMRZ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<" + "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
	if err != nil {
		t.Fatal(err)
	}
	if td3.Format != "TD3" || td3.DocumentNumber != "L898902C3" || td3.BirthDate != "740812" || td3.ExpiryDate != "120415" ||
		td3.Sex != "F" || td3.Primary != "ERIKSSON" || td3.Secondary != "ANNA MARIA" || !td3.CheckDigitsOK || td3.OptionalData2 != "ZE184226B" {
		t.Errorf("TD3 = %+v", td3)
	}
	td1, err := ParseMRZ("I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<")
	if err != nil {
		t.Fatal(err)
	}
	if td1.Format != "TD1" || td1.DocumentNumber != "D23145890" || td1.Nationality != "UTO" || !td1.CheckDigitsOK || td1.Secondary != "ANNA MARIA" {
		t.Errorf("TD1 = %+v", td1)
	}
	if k := td1.Key(); k.DocumentNumber != "D23145890" || k.BirthDate != "740812" || k.ExpiryDate != "120415" {
		t.Errorf("key %+v", k)
	}
	bad, err := ParseMRZ("I<UTOD231458908<<<<<<<<<<<<<<<7408122F1204159UTO<<<<<<<<<<<6ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
	if err != nil || bad.CheckDigitsOK {
		t.Errorf("wrong check digit accepted: %v", err)
	}
	// The Vietnamese sample of docs/sources.md §5.
	vn, err := ParseMRZ("IDVNM0930470641001093047064<<2" + "9301054M3301052VNM<<<<<<<<<<<8" + "UNG<<HOANG<HIEP<<<<<<<<<<<<<<<")
	if err != nil || !vn.CheckDigitsOK || vn.DocumentNumber != "093047064" || vn.OptionalData1 != "001093047064<<2" {
		t.Errorf("VN TD1 = %+v, %v", vn, err)
	}
	for _, s := range []string{"", "P<UTO", "p<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"} {
		if _, err := ParseMRZ(s); err == nil {
			t.Errorf("ParseMRZ(%q) accepted", s)
		}
	}
}

func TestParseDG2(t *testing.T) {
	for _, tc := range []struct {
		file     string
		dataType byte
		mime     string
	}{{"face.jpg", 0, "image/jpeg"}, {"face.jp2", 1, "image/jp2"}, {"face.j2k", 1, "image/j2k"}} {
		t.Run(tc.file, func(t *testing.T) {
			img, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			f, err := ParseDG2(buildDG2(img, tc.dataType, 48, 64))
			if err != nil {
				t.Fatal(err)
			}
			if f.MIME != tc.mime || !bytes.Equal(f.Data, img) || f.Width != 48 || f.Height != 64 {
				t.Errorf("face %s %dx%d", f.MIME, f.Width, f.Height)
			}
			dec, err := f.Decode()
			if tc.mime != "image/jpeg" && !JPEG2000Supported {
				if !errors.Is(err, ErrJPEG2000Unsupported) {
					t.Errorf("JPEG 2000 without libopenjp2: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b := dec.Bounds(); b.Dx() != 48 || b.Dy() != 64 {
				t.Errorf("decoded %v", b)
			}
			// The gradient runs from navy at the top to orange at the bottom.
			r0, _, b0, _ := dec.At(24, 1).RGBA()
			r1, _, b1, _ := dec.At(24, 62).RGBA()
			if !(b0 > r0 && r1 > b1) {
				t.Errorf("colours top %d/%d bottom %d/%d", r0>>8, b0>>8, r1>>8, b1>>8)
			}
		})
	}
	// A container without the 19794-5 header still gives the image.
	img, _ := os.ReadFile("testdata/face.jpg")
	raw := EncodeTLV(0x75, EncodeTLV(0x7F61, append(EncodeTLV(0x02, []byte{1}),
		EncodeTLV(0x7F60, EncodeTLV(0x5F2E, append([]byte("39794 header"), img...)))...)))
	if f, err := ParseDG2(raw); err != nil || f.MIME != "image/jpeg" || !bytes.Equal(f.Data, img) {
		t.Errorf("sniffed face: %v", err)
	}
	if _, err := ParseDG2(EncodeTLV(0x75, EncodeTLV(0x7F61, nil))); !errors.Is(err, ErrNoFace) {
		t.Errorf("empty DG2: %v", err)
	}
}

func TestATRExtendedLength(t *testing.T) {
	for _, tc := range []struct {
		atr  string
		want bool
	}{
		// T=1 contactless ATR whose historical bytes carry card
		// capabilities 73 with "extended Lc and Le" (third byte 0x40).
		{"3B8A8001 80 73 C8 21 40 00 00 00 00 00 FF", true},
		{"3B8A8001 80 73 C8 21 00 00 00 00 00 00 FF", false},
		{"3B888001544443434344564E00", false}, // drivers/virtual's
		{"3B", false},
	} {
		if got := atrExtendedLength(unhex(t, tc.atr)); got != tc.want {
			t.Errorf("%s: %v", tc.atr, got)
		}
	}
	ok, max := parseATRInfo(EncodeTLV(0x7F66, append(EncodeTLV(0x02, []byte{0x10, 0}), EncodeTLV(0x02, []byte{0x08, 0})...)))
	if !ok || max != 2048 {
		t.Errorf("EF.ATR/INFO: %v %d", ok, max)
	}
}
