package mantela

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fuzzSeeds returns the community examples and hostile variants of them.
// The examples are read from the shared folder when present, so the seeds
// track the published data without a copy in the repository.
func fuzzSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	seeds := [][]byte{
		[]byte(`{"aboutMe": {"identifier": "a"}}`),
		[]byte(`{"aboutMe": {"identifier": "a"}, "providers": [{"identifier": "a", "prefix": "0", "mantela": "https://a.example/m.json"}]}`),
		[]byte(`{"aboutMe": {"identifier": "a"}, "providers": [{"identifier": "b", "prefix": "1", "mantela": "m.json"}, {"identifier": "a", "prefix": "0", "mantela": "m.json"}]}`),
		[]byte(`{"mantelas": [{"aboutMe": {"identifier": "a"}, "providers": [{"identifier": "b", "prefix": "1"}]}, {"aboutMe": {"identifier": "b"}, "providers": [{"identifier": "a", "prefix": "2"}, {"identifier": "b", "prefix": "0"}]}]}`),
		[]byte(`[]`),
		[]byte(`{"aboutMe": {"identifier": "a", "preferredPrefix": "01"}, "extensions": [{"extension": "*1#"}]}`),
		[]byte(`{"aboutMe": {"identifier": "a", "geolocationCoordinates": {"latitude": 1e308, "altitude": null}}}`),
		[]byte(strings.Repeat("[", 100) + strings.Repeat("]", 100)),
		[]byte(`{"aboutMe": {"identifier": "a", "name": "` + strings.Repeat("\\u9ed2", 1000) + `"}}`),
	}
	dir := filepath.Join("..", "..", "..", "shared", "mantela")
	for _, name := range []string{"example.json", "example.mantelas.json"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			tb.Logf("seed %s not available: %v", name, err)
			continue
		}
		seeds = append(seeds,
			data,
			data[:len(data)/2],
			bytes.Replace(data, []byte(`"prefix": "0"`), []byte(`"prefix": 0`), 1),
			bytes.Replace(data, []byte(`"identifier"`), []byte(`"identifiers"`), 1),
			// Huge: over the default size limit.
			bytes.Replace(data, []byte(`"name": "`), []byte(`"name": "`+strings.Repeat("x", int(DefaultMaxBytes))), 1),
		)
	}
	return seeds
}

func FuzzParse(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parser := Parser{}
		doc, err := parser.Parse(data, "fuzz")
		docs, anyErr := parser.ParseAny(data, "fuzz")
		if err != nil {
			var parseErr *ParseError
			if !errors.As(err, &parseErr) {
				t.Fatalf("error is not a *ParseError: %v", err)
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if anyErr != nil || len(docs) != 1 {
			t.Fatalf("Parse accepted what ParseAny did not: %v, %d documents", anyErr, len(docs))
		}
		if !isIdentifier(doc.AboutMe.Identifier) {
			t.Fatalf("accepted identifier %q", doc.AboutMe.Identifier)
		}
		for i, provider := range doc.Providers {
			if !isDigits(provider.Prefix) || !isIdentifier(provider.Identifier) {
				t.Fatalf("accepted provider %d: %+v", i, provider)
			}
		}
		// What Parse accepts must survive a round trip through Marshal.
		first, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := parser.Parse(first, "round trip")
		if err != nil {
			t.Fatalf("re-parse of %s: %v", first, err)
		}
		second, err := json.Marshal(again)
		if err != nil {
			t.Fatalf("marshal again: %v", err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("round trip changed the document:\n%s\n%s", first, second)
		}
	})
}

// FuzzRouteDocuments builds a graph from a fuzzed document set (a single
// document or a "mantelas" collection) and routes between its exchanges.
func FuzzRouteDocuments(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed, "1")
	}
	f.Fuzz(func(t *testing.T, data []byte, extension string) {
		docs, _ := Parser{}.ParseAny(data, "fuzz")
		routeAll(t, docs, extension)
	})
}

// FuzzRouteStructure decodes bytes into a small network so that the fuzzer
// explores graph shapes (cycles, missing self entries, unavailable entries,
// duplicate and dangling identifiers) rather than JSON syntax. Each byte
// triple is one provider entry: from, to (7 is the exchange itself, 6 an
// exchange without a document), and a prefix, with flag bits for
// unavailability.
func FuzzRouteStructure(f *testing.F) {
	f.Add([]byte{0, 1, 12, 1, 7, 0, 1, 2, 3, 2, 7, 9, 2, 3, 45})
	f.Add([]byte{0, 1, 1, 1, 0, 1, 1, 7, 0, 0, 7, 0})
	f.Add([]byte{0x80, 1, 1, 1, 0x87, 0, 1, 2, 2, 8, 3, 200})
	f.Fuzz(func(t *testing.T, data []byte) {
		const exchanges = 6
		docs := make([]*Document, exchanges)
		for i := range docs {
			docs[i] = &Document{AboutMe: AboutMe{
				Identifier:      "x" + strconv.Itoa(i),
				PreferredPrefix: []string{strconv.Itoa(70 + i%3)},
			}}
		}
		for i := 0; i+2 < len(data) && i < 3*64; i += 3 {
			from := docs[int(data[i]&0x7f)%exchanges]
			if data[i]&0x80 != 0 && data[i+1]&0x40 != 0 {
				from.AboutMe.Unavailable = true
			}
			to := int(data[i+1]&0x07) % 8
			identifier := "x" + strconv.Itoa(to)
			if to == 7 {
				identifier = from.AboutMe.Identifier
			}
			prefix := strconv.Itoa(int(data[i+2]) % 120)
			if data[i+2] >= 240 {
				prefix = ""
			}
			from.Providers = append(from.Providers, Provider{
				Identifier:  identifier,
				Prefix:      prefix,
				Unavailable: data[i]&0x80 != 0 && data[i+1]&0x80 != 0,
			})
		}
		if len(data)%2 == 1 {
			// A duplicate identifier, which NewGraph must ignore.
			docs = append(docs, &Document{AboutMe: AboutMe{Identifier: "x0"}, Providers: []Provider{{Identifier: "x1", Prefix: "5"}}})
		}
		routeAll(t, docs, "1")
	})
}

// routeAll routes between every pair of (a bounded number of) exchanges
// under every model, checking each path's invariants and its cost against
// the Bellman-Ford oracle.
func routeAll(t *testing.T, docs []*Document, extension string) {
	t.Helper()
	graph := NewGraph(docs)
	ids := make([]string, 0, len(graph.nodes))
	for _, node := range graph.nodes {
		ids = append(ids, node.identifier)
	}
	if len(ids) > 8 {
		ids = ids[:8]
	}
	for _, from := range ids {
		for _, to := range ids {
			for model := PushButton; model <= HopCount; model++ {
				path, err := graph.Route(from, to, extension, model)
				want, reachable := bellmanFordCost(docs, from, to, extension, model)
				if err != nil {
					if reachable && !errors.Is(err, ErrAmbiguousExchange) {
						t.Fatalf("%s → %s under %v: %v, but the oracle found cost %d", from, to, model, err, want)
					}
					continue
				}
				checkPath(t, path)
				if !reachable || path.Cost != want {
					t.Fatalf("%s → %s under %v: cost %d (%s), oracle %d reachable=%v", from, to, model, path.Cost, path.Number, want, reachable)
				}
				alternatives, err := graph.Alternatives(from, to, extension, model, 0)
				if err != nil || len(alternatives) == 0 {
					t.Fatalf("Alternatives failed where Route succeeded: %v", err)
				}
				for _, alternative := range alternatives {
					checkPath(t, alternative)
					if alternative.Cost < path.Cost {
						t.Fatalf("alternative %s cheaper than the best %s", alternative.Number, path.Number)
					}
				}
			}
		}
	}
}
