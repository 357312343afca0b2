package org.jtarget.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import org.apache.felix.service.command.Descriptor;
import org.junit.jupiter.api.Test;

/**
 * What gogo.command's {@code help} prints comes from {@code @Descriptor} on the verb's methods and their
 * parameters: every verb must have them, and every public method must be a registered verb.
 */
class DescriptorsTest {
    @Test
    void everyVerbAndArgumentIsDescribed() {
        GogoShell.commands(new FakeTargetService()).forEach((command, spec) -> {
            Set<String> functions = new TreeSet<>(Arrays.asList(spec).subList(1, spec.length));
            Set<String> methods = new TreeSet<>();
            for (Method m : command.getClass().getDeclaredMethods()) {
                if (!Modifier.isPublic(m.getModifiers())) {
                    continue;
                }
                String verb = spec[0] + ":" + m.getName();
                methods.add(m.getName());
                Descriptor d = m.getAnnotation(Descriptor.class);
                assertNotNull(d, verb + " has no @Descriptor");
                assertFalse(d.value().isBlank(), verb);
                for (Parameter p : m.getParameters()) {
                    assertNotNull(p.getAnnotation(Descriptor.class), verb + " parameter " + p + " has no @Descriptor");
                }
            }
            assertEquals(functions, methods, spec[0] + ": functions registered vs public methods");
        });
    }

    @Test
    void flagsHaveLongAndShortNames() throws Exception {
        Method delete = BackstoreCommands.class.getMethod("delete", boolean.class, String.class);
        org.apache.felix.service.command.Parameter destroy =
                delete.getParameters()[0].getAnnotation(org.apache.felix.service.command.Parameter.class);
        assertEquals(Set.of("-d", "--destroy"), Set.of(destroy.names()));
        Method create = TargetCommands.class.getMethod("create", String.class, String.class);
        org.apache.felix.service.command.Parameter fabric =
                create.getParameters()[0].getAnnotation(org.apache.felix.service.command.Parameter.class);
        assertEquals("iscsi", fabric.absentValue());
        assertTrue(Arrays.asList(fabric.names()).contains("--fabric"));
    }
}
