package org.jtarget.spi.backstore;

import java.nio.file.Path;
import java.util.Map;

/**
 * What the core tells a provider about the backstore object it opens.
 *
 * @param name          the object's name, unique in the instance (e.g. {@code disk1})
 * @param parameters    the user's parameters, already checked against {@link BackstoreProvider#parameters()}
 * @param dataDirectory the instance's data folder; relative paths in parameters resolve against it
 */
public record BackstoreContext(String name, Map<String, String> parameters, Path dataDirectory) {
    public BackstoreContext {
        parameters = Map.copyOf(parameters);
    }

    /** The parameter's value, or {@code defaultValue} when it is absent. */
    public String parameter(String key, String defaultValue) {
        return parameters.getOrDefault(key, defaultValue);
    }
}
