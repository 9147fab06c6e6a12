package xmlrpc

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"
)

// executeKwBody is an execute_kw for action_reset_password on [[6]] with a context, written
// the way Python's xmlrpc.client writes it.
func executeKwBody(ids string) string {
	return "<?xml version='1.0'?>\n<methodCall>\n<methodName>execute_kw</methodName>\n" +
		"<params>\n<param>\n<value><string>pesantren18</string></value>\n</param>\n" +
		"<param>\n<value><int>2</int></value>\n</param>\n" +
		"<param>\n<value><string>admin</string></value>\n</param>\n" +
		"<param>\n<value><string>res.users</string></value>\n</param>\n" +
		"<param>\n<value><string>action_reset_password</string></value>\n</param>\n" +
		"<param>\n<value><array><data>\n<value><array><data>\n" + ids +
		"</data></array></value>\n</data></array></value>\n</param>\n" +
		"<param>\n<value><struct>\n<member>\n<name>context</name>\n<value><struct>\n" +
		"<member>\n<name>lang</name>\n<value><string>id_ID</string></value>\n</member>\n" +
		"<member>\n<name>tz</name>\n<value><string>Asia/Jakarta</string></value>\n" +
		"</member>\n</struct></value>\n</member>\n</struct></value>\n</param>\n" +
		"</params>\n</methodCall>\n"
}

func benchmarkDecode(b *testing.B, body string) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	r := strings.NewReader(body)
	for b.Loop() {
		r.Reset(body)
		if _, err := DecodeCall(r, DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeExecuteKw(b *testing.B) {
	benchmarkDecode(b, executeKwBody("<value><int>6</int></value>\n"))
}

func BenchmarkDecodeExecuteKw1000Ids(b *testing.B) {
	var ids strings.Builder
	for i := range 1000 {
		ids.WriteString("<value><int>" + strconv.Itoa(i+1) + "</int></value>\n")
	}
	benchmarkDecode(b, executeKwBody(ids.String()))
}

func BenchmarkEncodeNotification(b *testing.B) {
	b.ReportAllocs()
	var buf bytes.Buffer
	if err := EncodeResponse(&buf, sentID); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))

	for b.Loop() {
		if err := EncodeResponse(io.Discard, sentID); err != nil {
			b.Fatal(err)
		}
	}
}
