"""Teaching: the equations with numbers, explanations of a step, presets for a room."""
