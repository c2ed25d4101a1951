package org.kmemlab.recorder.generate;

import java.util.List;

/**
 * A seeded generator of one seed's situation (../shared/seeds): it drives {@link Gen} with actors whose
 * events look like a recording of that workload, and says which replay hints reproduce the situation.
 */
public interface Scenario {
    String name();

    /** One line for {@code kmemlab generate --list}. */
    String description();

    /** Parameters with defaults; {@code kernel} (the release whose GFP layout and event names are used) included. */
    List<Param> params();

    /** Schedules the scenario's actors, snapshot and hints on {@code g}. */
    void generate(ScenarioParams p, Gen g);
}
