// Command longhorn-settings prints, as one YAML stream, a longhorn.io/v1beta2 Setting for every
// setting that longhorn-manager defines (types.SettingNameList), each with its definition's
// default value: the Settings a freshly installed Longhorn has before anyone changes one.
// It reads the definitions from the same longhorn-manager module the cluster tests run, so the
// list and the defaults can never drift from the binary under test.
//
//	longhorn-settings -namespace longhorn-system > settings.yaml
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/longhorn/longhorn-manager/types"
)

func main() {
	namespace := flag.String("namespace", "longhorn-system", "namespace of the Settings")
	flag.Parse()

	count := 0
	for _, name := range types.SettingNameList {
		definition, ok := types.GetSettingDefinition(name)
		if !ok {
			fmt.Fprintf(os.Stderr, "longhorn-settings: %s is listed but has no definition\n", name)
			os.Exit(1)
		}
		// strconv.Quote gives a double-quoted scalar that YAML reads back unchanged, whatever
		// the default holds (JSON objects for data-engine-specific settings, empty strings).
		fmt.Printf("---\napiVersion: longhorn.io/v1beta2\nkind: Setting\nmetadata:\n  name: %s\n  namespace: %s\nvalue: %s\n",
			name, *namespace, strconv.Quote(definition.Default))
		count++
	}
	if count == 0 {
		fmt.Fprintln(os.Stderr, "longhorn-settings: longhorn-manager defines no settings")
		os.Exit(1)
	}
}
