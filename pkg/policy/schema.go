package policy

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/xeipuuv/gojsonschema"
	"go.yaml.in/yaml/v3"
)

//go:embed schema.json
var schemaJSON []byte

// Schema returns the JSON Schema (draft 7) of the policy file format.
func Schema() []byte { return append([]byte(nil), schemaJSON...) }

var compiledSchema = sync.OnceValues(func() (*gojsonschema.Schema, error) {
	return gojsonschema.NewSchema(gojsonschema.NewBytesLoader(schemaJSON))
})

// schema validates the document against the JSON Schema too, so that the
// schema users edit with and the decoder cannot drift apart: a problem is
// placed at the node the schema names.
func (d *decoder) schema(root *yaml.Node, _ []byte) {
	s, err := compiledSchema()
	if err != nil {
		d.errorf(nil, "", "the embedded schema does not load: %v", err)
		return
	}
	var doc any
	if err := root.Decode(&doc); err != nil {
		d.errorf(root, "", "%v", err)
		return
	}
	res, err := s.Validate(gojsonschema.NewGoLoader(jsonValue(doc)))
	if err != nil {
		d.errorf(root, "", "schema validation: %v", err)
		return
	}
	for _, e := range res.Errors() {
		field := e.Field()
		if field == "(root)" {
			field = ""
		}
		n := nodeAt(root, field)
		d.errorf(n, displayField(field), "schema: %s", e.Description())
	}
}

// jsonValue turns what yaml.v3 decodes (map[string]any with int values)
// into what encoding/json would give, for the schema validator.
func jsonValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = jsonValue(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = jsonValue(x)
		}
		return out
	}
	return v
}

// nodeAt finds the node of a gojsonschema field path ("steps.0.name").
func nodeAt(root *yaml.Node, field string) *yaml.Node {
	n := root
	if field == "" {
		return n
	}
	for part := range strings.SplitSeq(field, ".") {
		switch n.Kind {
		case yaml.MappingNode:
			next := (*yaml.Node)(nil)
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == part {
					next = n.Content[i+1]
				}
			}
			if next == nil {
				return n
			}
			n = next
		case yaml.SequenceNode:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(n.Content) {
				return n
			}
			n = n.Content[i]
		default:
			return n
		}
	}
	return n
}

// displayField turns "steps.0.name" into "steps[0].name".
func displayField(field string) string {
	var b strings.Builder
	for i, part := range strings.Split(field, ".") {
		if _, err := strconv.Atoi(part); err == nil && i > 0 {
			fmt.Fprintf(&b, "[%s]", part)
			continue
		}
		if i > 0 {
			b.WriteString(".")
		}
		b.WriteString(part)
	}
	return b.String()
}
