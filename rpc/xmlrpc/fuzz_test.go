package xmlrpc

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzLimits keep each input cheap, so the fuzzer spends its time on shapes, not sizes.
var fuzzLimits = Limits{MaxBytes: 64 << 10, MaxDepth: 16, MaxItems: 4096}

// FuzzDecodeCall checks that DecodeCall never panics or hangs, fails only with a
// *DecodeError, and that every value it accepts survives EncodeResponse and a new decode in
// the form Odoo's marshaller gives it (or is refused by the encoder as Odoo would refuse it).
func FuzzDecodeCall(f *testing.F) {
	for _, body := range seedBodies(f) {
		f.Add(body)
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := DecodeCall(bytes.NewReader(body), fuzzLimits)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
			}
			return
		}

		for _, v := range c.Params {
			checkRoundTrip(t, v)
		}
	})
}

// seedBodies gathers the client captures, the golden requests when they are present, and
// a few hand-written forms the captures do not show.
func seedBodies(f *testing.F) [][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", "clients", "*.xml"))
	if err != nil {
		f.Fatal(err)
	}

	var seeds [][]byte
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	seeds = append(seeds, goldenSeeds()...)

	for _, inner := range []string{
		"<string><![CDATA[a & b]]></string>", "<double>-1.5e-7</double>", "<nil/>",
		"<base64>aGVs\nbG8=</base64>", "<dateTime.iso8601>2024-01-02T03:04:05+07:00" +
			"</dateTime.iso8601>", "<struct><member><name>a</name><value/></member></struct>",
		"a&#13;b", "<i8>-9000000000</i8>",
	} {
		seeds = append(seeds, []byte(value(inner)))
	}
	return seeds
}

// goldenSeeds reads the golden requests without failing when the shared directory is gone:
// the fuzz corpus in testdata stands on its own.
func goldenSeeds() [][]byte {
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.xmlrpc.txt"))

	var seeds [][]byte
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		_, rest, _ := strings.Cut(string(data), "\n\n")
		req, _, _ := strings.Cut(rest, "\n--- response ")
		seeds = append(seeds, []byte(req))
	}
	return seeds
}
