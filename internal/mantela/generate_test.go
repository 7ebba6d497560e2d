package mantela

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// generateNetwork builds a deterministic network of n exchanges with
// extensionsPerExchange extensions each. Every exchange lists the next one
// (a ring, so most of the network is reachable) and three random others;
// one in ten has no self entry and one in twenty provider entries is
// unavailable. Provider entries point at baseURL + "/ex-NNNN.json".
func generateNetwork(n, extensionsPerExchange int, seed uint64, baseURL string) []*Document {
	rng := rand.New(rand.NewPCG(seed, seed^0x6b75726f))
	identifier := func(i int) string { return fmt.Sprintf("ex-%04d", i) }
	digits := func(minLen, maxLen int) string {
		var b strings.Builder
		for range minLen + rng.IntN(maxLen-minLen+1) {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		return b.String()
	}
	docs := make([]*Document, n)
	for i := range n {
		id := identifier(i)
		doc := &Document{
			Schema:  SchemaURL,
			Version: "0.1.0",
			AboutMe: AboutMe{
				Name:            "Generated exchange " + strconv.Itoa(i),
				Identifier:      id,
				PreferredPrefix: []string{fmt.Sprintf("9%04d", i)},
				SIPURI:          []string{"sip:" + id + ".example.net"},
			},
		}
		for e := range extensionsPerExchange {
			doc.Extensions = append(doc.Extensions, Extension{
				Name:      fmt.Sprintf("terminal %d", e),
				Extension: strconv.Itoa(1000 + e),
				Type:      "pushphone",
			})
		}
		link := func(j int, prefix string) Provider {
			return Provider{
				Name:        "Generated exchange " + strconv.Itoa(j),
				Prefix:      prefix,
				Identifier:  identifier(j),
				Mantela:     baseURL + "/" + identifier(j) + ".json",
				Unavailable: rng.IntN(20) == 0,
			}
		}
		if rng.IntN(10) != 0 {
			doc.Providers = append(doc.Providers, link(i, digits(1, 2)))
			doc.Providers[0].Unavailable = false
		}
		doc.Providers = append(doc.Providers, link((i+1)%n, digits(2, 4)))
		for range 3 {
			doc.Providers = append(doc.Providers, link(rng.IntN(n), digits(1, 4)))
		}
		docs[i] = doc
	}
	return docs
}

type routeQuery struct {
	from, to, extension string
}

func generateQueries(docs []*Document, count int, seed uint64) []routeQuery {
	rng := rand.New(rand.NewPCG(seed, seed))
	queries := make([]routeQuery, count)
	for i := range queries {
		target := docs[rng.IntN(len(docs))]
		queries[i] = routeQuery{
			from:      docs[rng.IntN(len(docs))].AboutMe.Identifier,
			to:        target.AboutMe.Identifier,
			extension: target.Extensions[rng.IntN(len(target.Extensions))].Extension,
		}
	}
	return queries
}

// bellmanFordCost is an independent oracle for the cheapest cost: plain
// relaxation until nothing changes, straight from the documents.
func bellmanFordCost(docs []*Document, from, to, extension string, model CostModel) (int64, bool) {
	byID := make(map[string]*Document)
	for _, doc := range docs {
		if doc != nil && doc.AboutMe.Identifier != "" && byID[doc.AboutMe.Identifier] == nil {
			byID[doc.AboutMe.Identifier] = doc
		}
	}
	if target := byID[to]; target != nil && target.AboutMe.Unavailable {
		return 0, false
	}
	extensionCost, ok := model.DialCost(extension)
	if !ok || extension == "" {
		return 0, false
	}
	dist := map[string]int64{from: 0}
	for changed := true; changed; {
		changed = false
		for id, base := range dist {
			doc := byID[id]
			if doc == nil {
				continue
			}
			var selfCost int64
			if id != from {
				if doc.AboutMe.Unavailable {
					continue
				}
				best := int64(-1)
				for _, prefix := range doc.SelfPrefixes() {
					if cost, ok := model.DialCost(prefix); ok && (best < 0 || cost < best) {
						best = cost
					}
				}
				if best < 0 {
					continue
				}
				selfCost = best
			}
			for _, provider := range doc.Providers {
				if provider.Unavailable || provider.Prefix == "" || provider.Identifier == "" || provider.Identifier == id {
					continue
				}
				step, ok := model.DialCost(provider.Prefix)
				if !ok {
					continue
				}
				if model == HopCount {
					step = 1
				}
				cost := base + selfCost + step
				if current, seen := dist[provider.Identifier]; !seen || cost < current {
					dist[provider.Identifier] = cost
					changed = true
				}
			}
		}
	}
	cost, ok := dist[to]
	return cost + extensionCost, ok
}

func TestRouteMatchesBellmanFord(t *testing.T) {
	for seed := range uint64(8) {
		docs := generateNetwork(40, 3, seed, "")
		graph := NewGraph(docs)
		for _, query := range generateQueries(docs, 50, seed) {
			for model := PushButton; model <= HopCount; model++ {
				want, reachable := bellmanFordCost(docs, query.from, query.to, query.extension, model)
				path, err := graph.Route(query.from, query.to, query.extension, model)
				if !reachable {
					require.ErrorIs(t, err, ErrNoRoute, "seed %d %+v %v", seed, query, model)
					continue
				}
				require.NoError(t, err, "seed %d %+v %v", seed, query, model)
				checkPath(t, path)
				require.Equal(t, want, path.Cost, "seed %d %+v %v: %s", seed, query, model, path.Number)
			}
		}
	}
}

func TestGeneratedNetworkIsValid(t *testing.T) {
	validator := newSharedValidator(t)
	docs := generateNetwork(5, 2, 1, "https://example.net")
	for _, doc := range docs {
		data := mustMarshal(t, doc)
		assert.NoError(t, validator.Validate(data))
		parsed, err := Parse(data, doc.AboutMe.Identifier)
		require.NoError(t, err)
		assert.Equal(t, doc, parsed)
	}
}

func BenchmarkNewGraph(b *testing.B) {
	docs := generateNetwork(1000, 20, 1, "")
	b.ReportAllocs()
	for b.Loop() {
		NewGraph(docs)
	}
}

// BenchmarkRoute routes over 1,000 exchanges and 20,000 extensions once the
// graph is built; the target is well under 10 ms per route.
func BenchmarkRoute(b *testing.B) {
	docs := generateNetwork(1000, 20, 1, "")
	graph := NewGraph(docs)
	queries := generateQueries(docs, 1024, 2)
	for model := PushButton; model <= HopCount; model++ {
		b.Run(model.String(), func(b *testing.B) {
			b.ReportAllocs()
			var i, unreachable int
			for b.Loop() {
				query := queries[i%len(queries)]
				i++
				if _, err := graph.Route(query.from, query.to, query.extension, model); err != nil {
					unreachable++
				}
			}
			b.ReportMetric(float64(unreachable)/float64(i), "unreachable/op")
		})
	}
}

func BenchmarkAlternatives(b *testing.B) {
	docs := generateNetwork(1000, 20, 1, "")
	graph := NewGraph(docs)
	queries := generateQueries(docs, 1024, 2)
	b.ReportAllocs()
	var i int
	for b.Loop() {
		query := queries[i%len(queries)]
		i++
		_, _ = graph.Alternatives(query.from, query.to, query.extension, PushButton, 0)
	}
}

// BenchmarkFetch walks a 1,000-document network served by a local server
// with at most 16 requests in flight.
func BenchmarkFetch(b *testing.B) {
	bodies := make(map[string][]byte)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer server.Close()
	// bodies is filled before the first request and only read afterwards.
	for _, doc := range generateNetwork(1000, 20, 1, server.URL) {
		bodies["/"+doc.AboutMe.Identifier+".json"] = mustMarshal(b, doc)
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 16}
	defer transport.CloseIdleConnections()
	fetcher := NewFetcher(WithHTTPClient(&http.Client{Transport: transport}), WithConcurrency(16), WithMaxDepth(1000))
	b.ReportAllocs()
	for b.Loop() {
		network, err := fetcher.Fetch(context.Background(), server.URL+"/ex-0000.json")
		if err != nil {
			b.Fatal(err)
		}
		if len(network.Exchanges) != 1000 || len(network.Problems) != 0 {
			b.Fatalf("fetched %d exchanges with %d problems", len(network.Exchanges), len(network.Problems))
		}
	}
}
