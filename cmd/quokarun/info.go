package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quoka-llm/quoka/models"
)

func infoCommand() *cli.Command {
	return &cli.Command{
		Name:      "info",
		Usage:     "print a model's metadata",
		UsageText: "quokarun info -m MODEL",
		Description: "Reads the GGUF header (architecture, shapes, tensor types, parameters, chat template) " +
			"without loading the weights.",
		Flags:        []cli.Flag{modelFlag},
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			path, err := modelPath(c)
			if err != nil {
				return err
			}
			info, err := models.ReadInfo(path)
			if err != nil {
				return modelFileError(path, err)
			}
			_, err = fmt.Fprint(c.App.Writer, info.String())
			return err
		},
	}
}

// modelFileError rewords the models package's errors like the bindings'
// ones: `model "x.gguf": file not found`.
func modelFileError(path string, err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return fmt.Errorf("model %q: file not found", path)
	}
	msg := strings.TrimPrefix(err.Error(), "models: read "+path+": ")
	return fmt.Errorf("model %q: %s", path, msg)
}
