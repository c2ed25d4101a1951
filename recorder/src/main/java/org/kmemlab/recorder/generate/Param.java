package org.kmemlab.recorder.generate;

/** One scenario parameter: its key, default value (as text) and what it sets. */
public record Param(String key, String defaultValue, String description) {}
