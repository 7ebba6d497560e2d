package mantela

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const (
	documentSchemaFile   = "mantela.schema.json"
	collectionSchemaFile = "mantelas.schema.json"
)

// SchemaValidator checks documents against the community's JSON Schema
// (draft 2020-12). The schema files are read from a local directory rather
// than the web so that validation works offline and cannot change under a
// running exchange. It is safe for concurrent use.
type SchemaValidator struct {
	document   *jsonschema.Schema
	collection *jsonschema.Schema
}

// NewSchemaValidator compiles the schema files in dir, e.g. a copy of the
// repository's 0.1.x folder. The files refer to each other by relative $ref
// ("./aboutme.json") resolved against their $id
// (https://tkytel.github.io/mantela/0.1.x/…), so every *.json file is
// registered under its own $id; references to anything else fail instead of
// being fetched. dir must hold mantela.schema.json; mantelas.schema.json is
// optional and enables ValidateCollection.
//
// Formats ("uri") are annotations in draft 2020-12 and are not asserted.
func NewSchemaValidator(dir string) (*SchemaValidator, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("mantela: list schema files in %s: %w", dir, err)
	}
	compiler := jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft2020)
	compiler.UseLoader(offlineLoader{})
	ids := make(map[string]string, len(files))
	for _, file := range files {
		id, doc, err := readSchemaFile(file)
		if err != nil {
			return nil, err
		}
		if err := compiler.AddResource(id, doc); err != nil {
			return nil, fmt.Errorf("mantela: register schema %s as %s: %w", file, id, err)
		}
		ids[filepath.Base(file)] = id
	}
	documentID, ok := ids[documentSchemaFile]
	if !ok {
		return nil, fmt.Errorf("mantela: %s not found in %s", documentSchemaFile, dir)
	}
	validator := &SchemaValidator{}
	if validator.document, err = compiler.Compile(documentID); err != nil {
		return nil, fmt.Errorf("mantela: compile %s: %w", documentID, err)
	}
	if collectionID, ok := ids[collectionSchemaFile]; ok {
		if validator.collection, err = compiler.Compile(collectionID); err != nil {
			return nil, fmt.Errorf("mantela: compile %s: %w", collectionID, err)
		}
	}
	return validator, nil
}

func readSchemaFile(file string) (string, any, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", nil, fmt.Errorf("mantela: read schema: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return "", nil, fmt.Errorf("mantela: decode schema %s: %w", file, err)
	}
	obj, _ := doc.(map[string]any)
	id, _ := obj["$id"].(string)
	if id == "" {
		return "", nil, fmt.Errorf("mantela: schema %s has no $id to resolve references against", file)
	}
	return id, doc, nil
}

// offlineLoader refuses every URL so that a $ref outside the directory is an
// error rather than a network request or a read of an arbitrary file.
type offlineLoader struct{}

func (offlineLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not among the local schema files", url)
}

// Validate checks one Mantela document.
func (v *SchemaValidator) Validate(data []byte) error {
	return validateJSON(v.document, data, "document")
}

// ValidateDocument checks a Document as it would be published by
// json.Marshal, which is how kurodenwa checks its own document.
func (v *SchemaValidator) ValidateDocument(doc *Document) error {
	data, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("mantela: marshal document: %w", err)
	}
	return v.Validate(data)
}

// ValidateCollection checks a "mantelas" collection.
func (v *SchemaValidator) ValidateCollection(data []byte) error {
	if v.collection == nil {
		return fmt.Errorf("mantela: validate collection: %s was not among the schema files", collectionSchemaFile)
	}
	return validateJSON(v.collection, data, "collection")
}

func validateJSON(schema *jsonschema.Schema, data []byte, what string) error {
	// UnmarshalJSON keeps numbers as json.Number, which the validator needs
	// for exact comparisons.
	instance, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("mantela: validate %s: %w: %w", what, ErrSyntax, err)
	}
	if err := schema.Validate(instance); err != nil {
		return fmt.Errorf("mantela: validate %s: %w", what, err)
	}
	return nil
}
