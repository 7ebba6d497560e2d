package mantela

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// sharedMantelaDir locates the community's schema and examples in the
// shared folder beside the repository (internal/mantela → ../../../shared).
func sharedMantelaDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "mantela")
	if _, err := os.Stat(filepath.Join(dir, "0.1.x", "mantela.schema.json")); err != nil {
		tb.Skipf("Mantela schema and examples not available (expected the shared folder beside the repository at %s): %v", dir, err)
	}
	return dir
}

func readShared(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(sharedMantelaDir(tb), name))
	if err != nil {
		tb.Fatalf("read %s: %v", name, err)
	}
	return data
}

// exchangeDoc builds a document for graph tests. selfPrefix "" means the
// exchange has no self entry.
func exchangeDoc(identifier, selfPrefix string, providers ...Provider) *Document {
	doc := &Document{
		Version: "0.1.0",
		AboutMe: AboutMe{Name: "Exchange " + identifier, Identifier: identifier},
		Extensions: []Extension{
			{Name: "desk", Extension: "100", Type: "dialphone"},
		},
	}
	if selfPrefix != "" {
		doc.Providers = append(doc.Providers, Provider{Name: "self", Prefix: selfPrefix, Identifier: identifier})
	}
	doc.Providers = append(doc.Providers, providers...)
	return doc
}

func peer(identifier, prefix string) Provider {
	return Provider{Name: "Exchange " + identifier, Prefix: prefix, Identifier: identifier}
}

func mustMarshal(tb testing.TB, value any) []byte {
	tb.Helper()
	data, err := json.Marshal(value)
	if err != nil {
		tb.Fatalf("marshal: %v", err)
	}
	return data
}
