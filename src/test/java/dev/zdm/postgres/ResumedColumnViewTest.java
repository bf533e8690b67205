package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.CatalogView;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The view a resumed add_column plans against must be the server's catalog in everything but the one
 * column: a CatalogView method it does not forward would answer the interface's default instead (what a
 * catalog without schemas, keys or constraints answers), and the plan would differ from the first run's.
 */
class ResumedColumnViewTest {

    @Test
    void forwardsEveryMethodOfTheCatalogView() {
        List<String> missing = Arrays.stream(CatalogView.class.getMethods())
                .filter(m -> !Modifier.isStatic(m.getModifiers()))
                .filter(m -> !declares(m))
                .map(Method::getName)
                .toList();
        assertThat(missing).as("CatalogView methods ResumedColumnView leaves to the interface").isEmpty();
    }

    private static boolean declares(Method m) {
        try {
            ResumedColumnView.class.getDeclaredMethod(m.getName(), m.getParameterTypes());
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }
}
