package org.kmemlab.replay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicySpecTest {
    @TempDir Path tmp;

    @Test
    void parsesPresetsAndNamedVariants() {
        assertEquals(new PolicySpec("baseline", "baseline", Map.of()), PolicySpec.parse("baseline"));
        PolicySpec v = PolicySpec.parse("list=spl-emergency,spl.emergencyIndex=LIST,spl.growWaitTicks=2");
        assertEquals("list", v.name());
        assertEquals("spl-emergency", v.preset());
        assertEquals(Map.of("spl.emergencyIndex", "LIST", "spl.growWaitTicks", "2"), v.knobs());
        for (String bad : new String[]{"spl-emergency,spl.emergencyIndex=LIST", "../x=baseline", "x=", "x=baseline,novalue"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PolicySpec.parse(bad), bad);
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
    }

    @Test
    void aVariantReplaysAsItsPresetWithItsKnobsSetAndTheyWinOverSet() throws Exception {
        Path trace = tmp.resolve("random.arrow");
        Traces.random(trace, 5_000, 3);
        // the reference: the preset with the knob given by --set
        MultiReplay.run(trace, List.of("baseline"), Map.of("cost.slub.alloc.fastpath", "1"), tmp.resolve("ref"), 1);
        // the variant's own value wins over a different --set, and two variants of one preset run side by side
        Map<String, Map<String, Object>> res = MultiReplay.run(trace,
                List.of("cheap=baseline,cost.slub.alloc.fastpath=1", "dear=baseline,cost.slub.alloc.fastpath=5000"),
                Map.of("cost.slub.alloc.fastpath", "999"), tmp.resolve("var"), 2);
        assertEquals(List.of("cheap", "dear"), List.copyOf(res.keySet()));
        assertEquals("cheap", res.get("cheap").get("policy"));
        assertArrayEquals(Files.readAllBytes(tmp.resolve("ref/baseline/profile.folded")), Files.readAllBytes(tmp.resolve("var/cheap/profile.folded")));
        Map<String, Object> ref = ReplayerTest.summary(tmp.resolve("ref/baseline"));
        long refNs = ((Number) ref.get("modeled_ns")).longValue();
        assertEquals(refNs, ((Number) res.get("cheap").get("modeled_ns")).longValue());
        assertNotEquals(refNs, ((Number) res.get("dear").get("modeled_ns")).longValue());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> MultiReplay.run(trace, List.of("baseline", "baseline"), Map.of(), tmp.resolve("twice"), 1));
        assertTrue(twice.getMessage().contains("given twice"), twice.getMessage());
    }
}
