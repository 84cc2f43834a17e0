/*
 * src/plot/colors.c — viridis (for continuous parameters such as model size)
 * and the tab10 qualitative palette, as in matplotlib.
 */
#include <math.h>

#include "plot/plot.h"

/* matplotlib's viridis at t = 0, 0.1, …, 1. The map is smooth enough that
 * interpolating between these 11 knots stays within about 2% of the full
 * 256-entry table, which keeps the colours recognisably viridis. */
static const float viridis_knots[11][3] = {
    {0.267004f, 0.004874f, 0.329415f}, {0.282623f, 0.140926f, 0.457517f}, {0.253935f, 0.265254f, 0.529983f},
    {0.206756f, 0.371758f, 0.553117f}, {0.163625f, 0.471133f, 0.558148f}, {0.127568f, 0.566949f, 0.550556f},
    {0.134692f, 0.658636f, 0.517649f}, {0.266941f, 0.748751f, 0.440573f}, {0.477504f, 0.821444f, 0.318195f},
    {0.741388f, 0.873449f, 0.149561f}, {0.993248f, 0.906157f, 0.143936f},
};

cls_rgba cls_viridis(double t) {
  const int n = 11;
  if (!(t >= 0.0)) t = 0.0;
  if (t > 1.0) t = 1.0;
  double pos = t * (n - 1);
  int i = (int)floor(pos);
  if (i >= n - 1) i = n - 2;
  double f = pos - i;
  cls_rgba c;
  c.r = (float)(viridis_knots[i][0] + f * (viridis_knots[i + 1][0] - viridis_knots[i][0]));
  c.g = (float)(viridis_knots[i][1] + f * (viridis_knots[i + 1][1] - viridis_knots[i][1]));
  c.b = (float)(viridis_knots[i][2] + f * (viridis_knots[i + 1][2] - viridis_knots[i][2]));
  c.a = 1.0f;
  return c;
}

cls_rgba cls_palette(int i) {
  static const float tab10[10][3] = {{0.122f, 0.467f, 0.706f}, {1.000f, 0.498f, 0.055f}, {0.173f, 0.627f, 0.173f},
                                     {0.839f, 0.153f, 0.157f}, {0.580f, 0.404f, 0.741f}, {0.549f, 0.337f, 0.294f},
                                     {0.890f, 0.467f, 0.761f}, {0.498f, 0.498f, 0.498f}, {0.737f, 0.741f, 0.133f},
                                     {0.090f, 0.745f, 0.812f}};
  int k = ((i % 10) + 10) % 10;
  return cls_rgba_make(tab10[k][0], tab10[k][1], tab10[k][2], 1.0f);
}
